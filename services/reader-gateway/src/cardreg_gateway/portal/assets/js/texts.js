// Every message of the portal, by language. Both tables have the same keys (a browser test
// checks it), and every API error code and FAQ 15 reader code has an entry in each.

import en from "./texts/en.js";
import zhTW from "./texts/zh-TW.js";

export const messages = { "zh-TW": zhTW, en };
