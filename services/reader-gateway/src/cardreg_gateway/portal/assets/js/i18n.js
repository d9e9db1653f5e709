// Languages: zh-TW by default, English on request. The choice is kept in localStorage (it is
// not personal data) and mirrored on <html lang>. Translated elements carry their message key
// in data-i18n (and arguments in data-i18n-args), so switching the language rewrites the text
// in place: what the user typed, and the page's state, stay as they are.

import { messages } from "./texts.js";

export const LANGUAGES = ["zh-TW", "en"];
const STORAGE_KEY = "cardreg.language";

let language = "zh-TW";
let titleKey = null;
const listeners = new Set();

export function currentLanguage() {
  return language;
}

/** Pick the stored language (if any) at start-up. */
export function initLanguage() {
  let stored = null;
  try {
    stored = window.localStorage.getItem(STORAGE_KEY);
  } catch {
    stored = null; // storage may be disabled; the default language still works
  }
  applyLanguage(LANGUAGES.includes(stored) ? stored : "zh-TW");
}

export function setLanguage(next) {
  if (!LANGUAGES.includes(next)) return;
  try {
    window.localStorage.setItem(STORAGE_KEY, next);
  } catch {
    // not remembered, but switched all the same
  }
  applyLanguage(next);
}

export function onLanguageChange(listener) {
  listeners.add(listener);
}

function applyLanguage(next) {
  language = next;
  document.documentElement.lang = next;
  translateTree(document);
  for (const listener of listeners) listener(next);
}

/** The message for `key` in the current language, with {name} placeholders filled in.
 * An argument written "@other.key" is itself translated. */
export function t(key, args = {}) {
  const table = messages[language];
  let text = table[key] ?? messages["zh-TW"][key] ?? key;
  for (const [name, raw] of Object.entries(args)) {
    const value = typeof raw === "string" && raw.startsWith("@") ? t(raw.slice(1)) : raw;
    text = text.replaceAll(`{${name}}`, String(value));
  }
  return text;
}

export function setTitle(key) {
  titleKey = key;
  updateTitle();
}

function updateTitle() {
  const site = t("site.name");
  document.title = titleKey && t(titleKey) !== site ? `${t(titleKey)} | ${site}` : site;
}

const dateFormats = new Map();

function formatDate(iso) {
  if (!dateFormats.has(language)) {
    dateFormats.set(language, new Intl.DateTimeFormat(language, { dateStyle: "long" }));
  }
  const value = new Date(iso);
  return Number.isNaN(value.getTime()) ? iso : dateFormats.get(language).format(value);
}

export function translateElement(el) {
  const { i18n, i18nArgs, i18nAttr, i18nDate } = el.dataset;
  if (i18n) el.textContent = t(i18n, i18nArgs ? JSON.parse(i18nArgs) : {});
  if (i18nDate) el.textContent = formatDate(i18nDate);
  if (i18nAttr) {
    for (const pair of i18nAttr.split(";")) {
      const [attr, key] = pair.split("=");
      el.setAttribute(attr, t(key));
    }
  }
}

export function translateTree(root) {
  for (const el of root.querySelectorAll("[data-i18n], [data-i18n-attr], [data-i18n-date]")) {
    translateElement(el);
  }
  updateTitle();
}
