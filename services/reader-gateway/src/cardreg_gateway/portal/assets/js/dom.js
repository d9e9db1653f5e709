// Building DOM nodes without HTML strings: nothing a user or a server sent is ever parsed as
// markup, and the page needs no inline script or style (the CSP forbids both).

import { translateElement } from "./i18n.js";

/**
 * h("p", {class: "hint", id: "x"}, "text", child, ...) -> HTMLElement.
 * Attribute values: strings are set as attributes, `true` sets an empty attribute, `false`,
 * null and undefined are skipped. `on: {click: fn}` adds listeners. `text: [key, args]`
 * sets translated text (see i18n.js); `attrs18n: {"aria-label": key}` translated attributes.
 */
export function h(tag, props = {}, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(props)) {
    if (value === null || value === undefined || value === false) continue;
    if (name === "on") {
      for (const [event, handler] of Object.entries(value)) el.addEventListener(event, handler);
    } else if (name === "text") {
      const [key, args] = Array.isArray(value) ? value : [value];
      setText(el, key, args);
    } else if (name === "attrs18n") {
      el.dataset.i18nAttr = Object.entries(value)
        .map(([attr, key]) => `${attr}=${key}`)
        .join(";");
    } else {
      el.setAttribute(name, value === true ? "" : String(value));
    }
  }
  append(el, children);
  translateElement(el);
  return el;
}

export function append(parent, children) {
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    parent.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return parent;
}

/** Translated text that follows the language switch: the key (and its arguments) stay on
 * the element, and i18n.js rewrites the text when the language changes. */
export function setText(el, key, args) {
  el.dataset.i18n = key;
  if (args) el.dataset.i18nArgs = JSON.stringify(args);
  else delete el.dataset.i18nArgs;
  translateElement(el);
  return el;
}

export function clear(el) {
  el.replaceChildren();
  return el;
}

let counter = 0;

/** A document-unique id with a readable prefix. */
export function uniqueId(prefix) {
  counter += 1;
  return `${prefix}-${counter}`;
}
