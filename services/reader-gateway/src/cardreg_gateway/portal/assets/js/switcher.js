// The language switcher the gateway wrote into the page (a link per language, named in it,
// `?lang=` in its href): a click switches in place instead of reloading, which keeps what was
// typed and the in-memory session; should the texts not load, the link itself reloads the
// page in that language. The portal's frame and the counter console both use it.

import { currentLanguage, onLanguageChange, setLanguage } from "./i18n.js";

export function wireLanguageSwitcher() {
  for (const link of document.querySelectorAll("#languages a[data-language]")) {
    link.addEventListener("click", (event) => {
      if (event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey) return;
      event.preventDefault();
      setLanguage(link.dataset.language).catch(() => window.location.assign(link.href));
    });
  }
  markLanguage(currentLanguage());
  onLanguageChange(markLanguage);
}

function markLanguage(current) {
  for (const link of document.querySelectorAll("#languages a[data-language]")) {
    if (link.dataset.language === current) link.setAttribute("aria-current", "true");
    else link.removeAttribute("aria-current");
  }
}
