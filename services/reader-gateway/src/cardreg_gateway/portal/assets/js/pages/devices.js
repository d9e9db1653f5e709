// The account page's "Mobile devices" (FAQ 10): bind a phone with a QR code of a single-use,
// 5-minute link, and list or remove the bound phones. Both need the card login's session.

import { h } from "../dom.js";
import { showStatus } from "../forms.js";
import { actingIn, localDate } from "./common.js";

export function devicesPanel(withSession) {
  const status = h("div", { class: "status-slot" });
  const list = h("div", { class: "devices" }, h("p", { role: "status", text: "account.loading" }));
  const binding = h("div", { class: "binding" });
  const bindButton = h("button", {
    type: "button",
    class: "secondary",
    text: "devices.bind",
    on: { click: () => act(start) },
  });

  const act = actingIn(status);

  const refresh = async () => {
    const reply = await withSession("GET", "/api/v1/account/devices");
    list.replaceChildren(
      reply.devices.length
        ? h("ul", { class: "device-list" }, reply.devices.map(deviceItem))
        : h("p", { text: "devices.none" }),
    );
  };

  const deviceItem = (device) =>
    h(
      "li",
      { class: "device" },
      h("strong", { translate: "no" }, device.name),
      h("span", { class: "hint" }, " ", h("span", { text: "devices.created" }), " ", localDate(device.created_at)),
      h(
        "span",
        { class: "hint" },
        " ",
        h("span", { text: "devices.last_used" }),
        " ",
        device.last_used_at ? localDate(device.last_used_at) : h("span", { text: "devices.never" }),
      ),
      " ",
      h("button", {
        type: "button",
        class: "secondary",
        text: "devices.remove",
        "data-device": device.device_id,
        on: {
          click: () =>
            act(async () => {
              await withSession("DELETE", `/api/v1/account/devices/${device.device_id}`);
              await refresh();
              showStatus(status, "devices.removed");
            }),
        },
      }),
    );

  async function start() {
    const reply = await withSession("POST", "/api/v1/account/devices/bindings");
    const minutes = Math.max(1, Math.round(reply.expires_in / 60));
    binding.replaceChildren(
      h("p", { text: "devices.scan" }),
      h("img", { class: "qr", src: reply.qr_code, attrs18n: { alt: "devices.qr_alt" } }),
      h(
        "p",
        {},
        h("a", { href: reply.binding_url, target: "_blank", rel: "noopener", translate: "no", class: "binding-link" }, reply.binding_url),
      ),
      h("p", { class: "hint", text: ["devices.expires", { minutes }] }),
      h("button", {
        type: "button",
        text: "devices.done",
        on: {
          click: () =>
            act(async () => {
              binding.replaceChildren();
              await refresh();
            }),
        },
      }),
    );
  }

  act(refresh);
  return h("div", {}, h("p", { text: "devices.intro" }), status, list, binding, bindButton);
}
