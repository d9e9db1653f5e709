// The portal's entry point: language, frame, then the page for the current URL.

import { initLanguage } from "./i18n.js";
import { startRouter } from "./router.js";
import { startShell } from "./shell.js";
import { pages, notFound } from "./pages/index.js";

initLanguage();
startShell();
startRouter(document.getElementById("main"), pages, notFound);
