// The counter console's entry point: the language (its texts), the switcher, then the login.

import { initLanguage } from "../i18n.js";
import { wireLanguageSwitcher } from "../switcher.js";
import { employerRegistration } from "./employer.js";
import { login } from "./login.js";
import { search } from "./person.js";
import { startViews } from "./views.js";

initLanguage().then(
  () => {
    wireLanguageSwitcher();
    startViews(document.getElementById("main"), {
      login,
      home: { counter: search, admin: search, employer: employerRegistration },
    });
  },
  () => {
    document.getElementById("load-failed").hidden = false;
  },
);
