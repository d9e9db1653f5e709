// Languages. The texts are not in this code: the gateway compiles them from its gettext
// catalogues (docs/languages.md) and serves each language as /portal/texts/<lang>.json. The
// languages themselves, each with its own name, are the switcher the gateway writes into the
// page (#languages a[data-language]).
//
// Which language: a `?lang=` in the address (the reset mail's link, a switcher link opened
// before this script ran), else the choice remembered in localStorage, else the page's own
// <html lang>, which the gateway picked from the browser's Accept-Language. localStorage
// holds the language code and nothing else: it is a preference, not personal data, and the
// session token never goes there (session.js). Storage disabled means Accept-Language again
// on the next visit.
//
// Translated elements carry their message key in data-i18n (and arguments in
// data-i18n-args), so switching the language rewrites the text in place: what the user
// typed, and the page's state, stay as they are.

const STORAGE_KEY = "cardreg.language";

const loaded = new Map(); // language -> Promise of its texts
let language = null;
let messages = {};
let titleKey = null;
let switches = 0;
const listeners = new Set();

/** [{code, name}] of every language, in the switcher's order, each named in itself. */
export function languages() {
  return [...document.querySelectorAll("#languages [data-language]")].map((link) => ({
    code: link.dataset.language,
    name: link.textContent,
  }));
}

export function languageName(code) {
  return languages().find((entry) => entry.code === code)?.name ?? code;
}

function known(code) {
  return languages().some((entry) => entry.code === code);
}

export function currentLanguage() {
  return language;
}

/** Pick and load the language at start-up; rejects if its texts cannot be fetched. */
export async function initLanguage() {
  const url = new URL(window.location.href);
  const fromLink = url.searchParams.get("lang");
  if (fromLink !== null) {
    url.searchParams.delete("lang");
    window.history.replaceState(window.history.state, "", url.pathname + url.search + url.hash);
  }
  let next = document.documentElement.lang;
  if (known(fromLink)) {
    next = fromLink;
    remember(fromLink);
  } else if (known(stored())) {
    next = stored();
  }
  await applyLanguage(known(next) ? next : languages()[0].code);
}

/** Switch to `next` and remember it; rejects if its texts cannot be fetched. */
export async function setLanguage(next) {
  if (!known(next)) return;
  remember(next);
  await applyLanguage(next);
}

export function onLanguageChange(listener) {
  listeners.add(listener);
}

function stored() {
  try {
    return window.localStorage.getItem(STORAGE_KEY);
  } catch {
    return null; // storage may be disabled: Accept-Language decides
  }
}

function remember(code) {
  try {
    window.localStorage.setItem(STORAGE_KEY, code);
  } catch {
    // not remembered, but switched all the same
  }
}

function textsOf(code) {
  if (!loaded.has(code)) {
    const request = fetch(`/portal/texts/${encodeURIComponent(code)}.json`, {
      headers: { Accept: "application/json" },
    }).then((response) => {
      if (!response.ok) throw new Error(`texts ${code}: ${response.status}`);
      return response.json();
    });
    request.catch(() => loaded.delete(code)); // try again next time
    loaded.set(code, request);
  }
  return loaded.get(code);
}

async function applyLanguage(next) {
  const mine = ++switches;
  const table = await textsOf(next);
  if (mine !== switches) return; // a later switch overtook this one
  language = next;
  messages = table;
  document.documentElement.lang = next;
  translateTree(document);
  for (const listener of listeners) listener(next);
}

/** The message for `key` in the current language, with {name} placeholders filled in.
 * An argument written "@other.key" is itself translated. */
export function t(key, args = {}) {
  let text = messages[key] ?? key;
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

function formatDate(iso, withTime = false) {
  const which = `${language} ${withTime}`;
  if (!dateFormats.has(which)) {
    // Gregorian everywhere (Thai would default to the Buddhist era): the dates people type
    // and read off their residence permit are Gregorian.
    const style = withTime ? { dateStyle: "long", timeStyle: "short" } : { dateStyle: "long" };
    dateFormats.set(which, new Intl.DateTimeFormat(language, { ...style, calendar: "gregory" }));
  }
  const value = new Date(iso);
  return Number.isNaN(value.getTime()) ? iso : dateFormats.get(which).format(value);
}

export function translateElement(el) {
  if (language === null) return; // before the texts arrive: initLanguage translates the page
  const { i18n, i18nArgs, i18nAttr, i18nDate, i18nDatetime } = el.dataset;
  if (i18n) el.textContent = t(i18n, i18nArgs ? JSON.parse(i18nArgs) : {});
  if (i18nDate) el.textContent = formatDate(i18nDate);
  if (i18nDatetime) el.textContent = formatDate(i18nDatetime, true);
  if (i18nAttr) {
    for (const pair of i18nAttr.split(";")) {
      const [attr, key] = pair.split("=");
      el.setAttribute(attr, t(key));
    }
  }
}

export function translateTree(root) {
  for (const el of root.querySelectorAll("[data-i18n], [data-i18n-attr], [data-i18n-date], [data-i18n-datetime]")) {
    translateElement(el);
  }
  updateTitle();
}
