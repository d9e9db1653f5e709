// Path -> page. Each page is `render(main, {navigate, notice})`.

import { account } from "./account.js";
import { activity } from "./activity.js";
import { authorize } from "./authorize.js";
import { forgotPassword } from "./forgot.js";
import { home } from "./home.js";
import { login } from "./login.js";
import { lookup } from "./lookup.js";
import { mobile } from "./mobile.js";
import { notFound } from "./notfound.js";
import { register } from "./register.js";
import { resetPassword } from "./reset.js";
import { setup } from "./setup.js";

export const pages = {
  "/": home,
  "/register": register,
  "/lookup": lookup,
  "/login": login,
  "/account": account,
  "/account/activity": activity,
  "/forgot-password": forgotPassword,
  "/reset-password": resetPassword,
  "/setup": setup,
  "/m/": mobile,
  "/oauth2/authorize": authorize,
};

export { notFound };
