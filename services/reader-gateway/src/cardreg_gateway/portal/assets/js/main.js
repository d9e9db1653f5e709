// The portal's entry point: the language (its texts), the frame, then the page for the URL.
// Should the texts not load, the page keeps the notice the gateway rendered in its language.

import { initLanguage } from "./i18n.js";
import { startRouter } from "./router.js";
import { startShell } from "./shell.js";
import { pages, notFound } from "./pages/index.js";

initLanguage().then(
  () => {
    startShell();
    startRouter(document.getElementById("main"), pages, notFound);
  },
  () => {
    document.getElementById("load-failed").hidden = false;
  },
);
