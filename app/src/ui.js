// Small DOM helpers: no framework (the shell must stay small for a phone on a poor signal).
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === "class") el.className = v;
    else if (k === "dataset") Object.assign(el.dataset, v);
    else if (k.startsWith("on") && typeof v === "function") el.addEventListener(k.slice(2), v);
    else if (k === "html") el.innerHTML = v; // only ever for server-made SVG (the QR code)
    else if (v === true) el.setAttribute(k, "");
    else el.setAttribute(k, String(v));
  }
  append(el, children);
  return el;
}

/** Append children, leaving out null/false/undefined (the DOM's own append would write "null"). */
export function add(el, ...children) {
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children.flat(Infinity)) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

export function clear(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

let toastTimer = null;
export function toast(text, kind = "info") {
  let el = document.getElementById("toast");
  if (!el) {
    el = h("div", { id: "toast", role: "status" });
    document.body.append(el);
  }
  el.className = `toast ${kind}`;
  el.textContent = text;
  el.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => {
    el.hidden = true;
  }, 4000);
}

/** A bottom sheet (dialog) with a form; resolves with the submitted values or null. */
export function sheet(title, build, { submit, cancel }) {
  return new Promise((resolve) => {
    const dlg = h("dialog", { class: "sheet" });
    const form = h("form", { method: "dialog" });
    const body = h("div", { class: "sheet-body" });
    const err = h("p", { class: "form-error", role: "alert", hidden: true });
    const read = build(body) || (() => Object.fromEntries(new FormData(form)));
    form.append(
      h("h2", {}, title),
      body,
      err,
      h(
        "div",
        { class: "sheet-actions" },
        h("button", { type: "button", class: "btn ghost", onclick: () => done(null) }, cancel),
        h("button", { type: "submit", class: "btn primary", value: "ok" }, submit),
      ),
    );
    form.addEventListener("submit", (e) => {
      e.preventDefault();
      const values = read();
      if (values && values.error) {
        err.textContent = values.error;
        err.hidden = false;
        return;
      }
      done(values);
    });
    function done(v) {
      dlg.close();
      dlg.remove();
      resolve(v);
    }
    dlg.addEventListener("cancel", (e) => {
      e.preventDefault();
      done(null);
    });
    dlg.append(form);
    document.body.append(dlg);
    dlg.showModal();
  });
}
