// Passkeys in the browser (passkeys.py and passkey_views.py on the server).
// A form with data-passkey="register" or "login" posts itself (its CSRF
// token among its fields) for the options, hands them to the browser's
// WebAuthn, and posts the answer as JSON to its data-finish URL with the
// token in the X-CSRFToken header; the server says where to go next.
// A static file with no inline code, so the Content-Security-Policy stays as it is.
"use strict";

(() => {
  const PKC = window.PublicKeyCredential;

  const toBase64url = (buffer) =>
    btoa(String.fromCharCode(...new Uint8Array(buffer)))
      .replace(/\+/g, "-")
      .replace(/\//g, "_")
      .replace(/=+$/, "");
  const fromBase64url = (text) =>
    Uint8Array.from(
      atob(text.replace(/-/g, "+").replace(/_/g, "/") + "===".slice((text.length + 3) % 4)),
      (c) => c.charCodeAt(0),
    ).buffer;
  const withIds = (list) => (list || []).map((c) => ({ ...c, id: fromBase64url(c.id) }));

  // Browsers since 2025 parse the JSON options themselves; older ones get them decoded here.
  const creationOptions = (json) =>
    PKC.parseCreationOptionsFromJSON
      ? PKC.parseCreationOptionsFromJSON(json)
      : {
          ...json,
          challenge: fromBase64url(json.challenge),
          user: { ...json.user, id: fromBase64url(json.user.id) },
          excludeCredentials: withIds(json.excludeCredentials),
        };
  const requestOptions = (json) =>
    PKC.parseRequestOptionsFromJSON
      ? PKC.parseRequestOptionsFromJSON(json)
      : { ...json, challenge: fromBase64url(json.challenge), allowCredentials: withIds(json.allowCredentials) };

  function answer(credential) {
    if (typeof credential.toJSON === "function") return credential.toJSON();
    const r = credential.response;
    const json = {
      id: credential.id,
      rawId: toBase64url(credential.rawId),
      type: credential.type,
      authenticatorAttachment: credential.authenticatorAttachment,
      clientExtensionResults: credential.getClientExtensionResults(),
      response: { clientDataJSON: toBase64url(r.clientDataJSON) },
    };
    if (r.attestationObject) {
      json.response.attestationObject = toBase64url(r.attestationObject);
      json.response.transports = r.getTransports ? r.getTransports() : [];
    } else {
      json.response.authenticatorData = toBase64url(r.authenticatorData);
      json.response.signature = toBase64url(r.signature);
      json.response.userHandle = r.userHandle ? toBase64url(r.userHandle) : null;
    }
    return json;
  }

  // The JSON of a response; an error carrying the server's words when it refused.
  async function json(response) {
    const body = await response.json().catch(() => ({}));
    if (response.status === 409 && body.redirect) window.location.assign(body.redirect);
    if (!response.ok) throw new Error(body.error || `The server answered ${response.status}.`);
    return body;
  }

  async function run(form) {
    const token = form.querySelector('input[name="csrf_token"]').value;
    const options = await json(
      await fetch(form.action, { method: "POST", body: new FormData(form), credentials: "same-origin" }),
    );
    let credential;
    try {
      credential =
        form.dataset.passkey === "register"
          ? await navigator.credentials.create({ publicKey: creationOptions(options) })
          : await navigator.credentials.get({ publicKey: requestOptions(options) });
    } catch (error) {
      if (error.name === "NotAllowedError") throw new Error("The passkey request was cancelled or timed out.");
      if (error.name === "InvalidStateError") throw new Error("This authenticator holds a passkey of this account already.");
      throw error;
    }
    const done = await json(
      await fetch(form.dataset.finish, {
        method: "POST",
        credentials: "same-origin",
        headers: { "Content-Type": "application/json", "X-CSRFToken": token },
        body: JSON.stringify(answer(credential)),
      }),
    );
    window.location.assign(done.redirect);
  }

  for (const form of document.querySelectorAll("form[data-passkey]")) {
    const problem = form.querySelector(".passkey-problem");
    const say = (text) => {
      problem.textContent = text;
      problem.hidden = !text;
    };
    if (!PKC || !navigator.credentials) {
      if (form.dataset.passkey === "register") say("This browser cannot use passkeys.");
      continue;
    }
    form.hidden = false;
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const button = form.querySelector('button[type="submit"]');
      button.disabled = true;
      say("");
      run(form)
        .catch((error) => say(error.message))
        .finally(() => {
          button.disabled = false;
        });
    });
  }
})();
