// Any path the portal does not know (reached by history navigation only: the gateway itself
// answers unknown paths with its JSON 404).

import { h } from "../dom.js";
import { linkTo, pageHeading } from "./common.js";

export function notFound(main) {
  main.append(
    pageHeading("notfound.title"),
    h("p", { text: "notfound.text" }),
    h("p", {}, linkTo("/", "notfound.home", null)),
  );
}
