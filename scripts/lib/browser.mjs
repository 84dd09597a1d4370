// Drive the running app in headless Chromium (Debian's package) through
// playwright-core: for accounts, register (email and password), log in,
// screenshot the account page, log out. With MAIL_CATCHER_DIR set (the
// folder the project's mail catcher saves mail in), a form log-in also goes
// through a password reset: log in again here, ask for a reset link in a
// second browser, follow the mailed link there and set a new password; the
// first browser's session must then be over, and the new password must log
// in. That browser then adds a passkey through a virtual authenticator (the
// DevTools protocol's WebAuthn domain) and logs in with it alone. With
// ACCOUNT_CHANGES=1 too, before the passkey it moves the account to a new
// address through the link mailed to it, logs in with that address, turns
// on two-factor log-in (the secret from the set-up page into this script's
// own TOTP, RFC 6238) and logs in again with the password and a code; after
// the passkey it deletes the account, which ends its session. With
// ADMIN_EMAIL, an admin then disables another account, whose session ends (with a provider log-in: logs in
// again at the development provider and deletes the account there, which
// asks for a new log-in at the provider first). The newcomer run sets it; in
// the live run, its probes and the reset flow have used up the minute's
// log-in allowance (LOGIN_RATE_LIMIT) by then, and the next log-in gets 429.
// Fails on any Content-Security-Policy violation, console error or uncaught
// page error.
//
// With a token log-in (an API), CLIENT_APP_URL and MAIL_CATCHER_DIR, a page
// of the client application at CLIENT_APP_URL registers an account through
// the API, adds a passkey and logs in with it (clientPasskeys below).
//
// Usage: [MAIL_CATCHER_DIR=DIR [ACCOUNT_CHANGES=1]] [CLIENT_APP_URL=URL] node browser.mjs BASE_URL LOGIN SCREENSHOT
// LOGIN is the auth choice's login attribute in the manifest: form and
// provider log in and out; token (an API) and none see the public page.
import { createHmac } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { chromium } from "playwright-core";

// The log-in kinds this script knows (internal/matrix's tests keep them in
// step with the manifest).
const LOGINS = ["form", "provider", "token", "none"];

const [base, login, screenshot] = process.argv.slice(2);
if (!LOGINS.includes(login)) {
  console.log(`  FAIL browser: log-in kind ${JSON.stringify(login)} is not one of ${LOGINS.join(", ")}; teach browser.mjs the new one`);
  process.exit(2);
}
const problems = [];

// The TOTP code (RFC 6238: HMAC-SHA1, 30-second steps, 6 digits) of a base32
// secret at a time, written here apart from the app's pyotp so each checks the other.
function totp(secret, at) {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  const bits = [...secret.replace(/\s+/g, "")].map((c) => alphabet.indexOf(c).toString(2).padStart(5, "0")).join("");
  const key = Buffer.from(bits.match(/.{8}/g).map((byte) => parseInt(byte, 2)));
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(at / 30_000)));
  const mac = createHmac("sha1", key).update(counter).digest();
  const offset = mac[mac.length - 1] & 0x0f;
  return String((mac.readUInt32BE(offset) & 0x7fffffff) % 1_000_000).padStart(6, "0");
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--no-sandbox"],
  timeout: 30_000,
});
try {
  // The status of a page the proof is about to be refused (a form sent back with its errors).
  let expectedStatus = null;
  // Whether a 429 is waited out and tried again (the API's client page) rather than a problem.
  let retriesTooMany = false;
  // The throw-away certificate is not in Chromium's store; everything else
  // (Secure cookies, HSTS, CSP) behaves as on a trusted origin.
  // A browser of its own (cookies included), watched for CSP violations and errors.
  const openBrowser = async () => {
    const context = await browser.newContext({ ignoreHTTPSErrors: true });
    context.setDefaultTimeout(15_000);
    await context.addInitScript(() => {
      document.addEventListener("securitypolicyviolation", (e) => {
        console.error(`CSP violation: ${e.violatedDirective} blocked ${e.blockedURI}`);
      });
    });
    const page = await context.newPage();
    page.on("console", (msg) => {
      if (msg.type() !== "error") return;
      // Chromium reports a page answered 4xx as a console error; one the proof asked for is not a problem.
      if (expectedStatus && msg.text().includes(`the server responded with a status of ${expectedStatus}`)) return;
      if (retriesTooMany && msg.text().includes("the server responded with a status of 429")) return;
      problems.push(`console error on ${page.url()}: ${msg.text()}`);
    });
    page.on("pageerror", (err) => problems.push(`page error on ${page.url()}: ${err.message}`));
    return { context, page };
  };
  const { context, page } = await openBrowser();

  const step = (what) => console.log(`  ok   browser: ${what}`);
  const expectPath = (path) => {
    const now = new URL(page.url()).pathname;
    if (now !== path) throw new Error(`expected to be on ${path}, got ${page.url()}`);
  };

  let response = await page.goto(base + "/");
  if (response.status() !== 200) throw new Error(`GET / gave ${response.status()}`);
  step("public page loaded");

  const email = `ada-${Date.now()}@example.com`;
  const password = "correct horse battery staple";
  // When the first log-in was posted: LOGIN_RATE_LIMIT's window (fixed, per
  // client address) starts there.
  let firstLogInAt = null;
  const logIn = async (on, secret, address = email) => {
    firstLogInAt ??= Date.now();
    await on.goto(base + "/auth/login");
    await on.fill('input[name="email"]', address);
    await on.fill('input[name="password"]', secret);
    await Promise.all([on.waitForNavigation(), on.click('button[type="submit"]')]);
  };
  if (login === "form") {
    const register = async (secret) => {
      await page.goto(base + "/auth/register");
      await page.fill('input[name="email"]', email);
      await page.fill('input[name="password"]', secret);
      await page.fill('input[name="confirm"]', secret);
      const [answer] = await Promise.all([page.waitForNavigation(), page.click('button[type="submit"]')]);
      return answer;
    };
    // One of the 100,000 most common passwords: the form says why, and nothing is made.
    expectedStatus = 400;
    const refused = await register("qwertyqwerty");
    expectedStatus = null;
    if (refused.status() !== 400 || !(await page.content()).includes("one of the most common passwords")) {
      throw new Error(`a common password was not refused with its reason (status ${refused.status()})`);
    }
    await page.screenshot({ path: screenshot.replace(/\.png$/, "-refused.png"), fullPage: true });
    step("a common password refused, with the reason on the form");
    await register(password);
    step(`registered ${email}`);
    if (process.env.MAIL_CATCHER_DIR) {
      if (!(await page.content()).includes("Check your mail")) throw new Error("registration did not say to check the mail");
      await page.goto(await mailedLink("/auth/confirm"));
      await page.fill('input[name="password"]', password);
      await Promise.all([page.waitForNavigation(), page.click('button[type="submit"]')]);
      expectPath("/auth/login");
      step("confirmed the address through the link in the mail the catcher caught");
    }
    if (new URL(page.url()).pathname !== "/account") await logIn(page, password);
    expectPath("/account");
    step("logged in: on /account");
    if (process.env.MAIL_CATCHER_DIR) {
      // Projects with mail also list the account's security events.
      const events = await page.locator("table.events").innerText();
      if (!events.includes("Logged in")) throw new Error(`the account page does not list this log-in: ${JSON.stringify(events)}`);
      step("the account page lists this log-in among its security events");
    }
  } else if (login === "provider") {
    firstLogInAt ??= Date.now();
    await page.goto(base + "/auth/login");
    // The tests' stub provider signs in at once; the development provider
    // (make idp) first shows its sign-in page.
    await page.waitForURL((url) => url.pathname === "/account" || url.pathname === "/authorize");
    if (await atDevelopmentProvider("/account")) {
      if (!(await page.content()).includes("Grace Hopper")) throw new Error("the account page does not show the name given at the provider");
      step("signed in at the development provider's page");
    }
    step("logged in through the identity provider: on /account");
    // Every account page links its notes: a missing link fails the proof.
    await notes(page);
  }

  if (login === "form" || login === "provider") {
    await page.screenshot({ path: screenshot, fullPage: true });
    step(`screenshot of the logged-in page: ${screenshot}`);
    const cookies = await context.cookies();
    if (!cookies.some((c) => c.name === "__Host-session")) problems.push("no __Host-session cookie was kept");
    for (const c of cookies) {
      if (!c.secure || !c.httpOnly) problems.push(`cookie ${c.name} is not Secure and HttpOnly`);
    }
    await Promise.all([page.waitForNavigation(), page.click('form[action$="/auth/logout"] button')]);
    // Not followed: with OIDC the provider would sign the browser straight back in.
    response = await page.request.get(base + "/account", { maxRedirects: 0 });
    const location = response.headers()["location"] || "";
    if (response.status() !== 302 || !location.includes("/auth/login")) {
      throw new Error(`after log-out /account gave ${response.status()} ${location}, want a redirect to log in`);
    }
    step("logged out: /account now redirects to log in");
    if (login === "form" && process.env.MAIL_CATCHER_DIR) await passwordReset();
    if (login === "form" && process.env.ADMIN_EMAIL) await adminDisables();
    if (login === "provider" && process.env.ACCOUNT_CHANGES === "1") await deleteAtProvider();
    if (login === "provider" && process.env.PROVIDER_ADMIN_GROUP) await providerAdminDisables();
  } else {
    await page.screenshot({ path: screenshot, fullPage: true });
    step(`screenshot of the public page: ${screenshot}`);
    if (login === "token" && process.env.CLIENT_APP_URL) await clientPasskeys(process.env.CLIENT_APP_URL);
  }

  // On the development provider's sign-in page (make idp; the tests' stub
  // signs in at once), sign in as Grace and wait to be back at `then`.
  async function atDevelopmentProvider(then) {
    if (new URL(page.url()).pathname !== "/authorize") return false;
    await page.fill('input[name="email"]', "grace@example.com");
    await page.fill('input[name="name"]', "Grace Hopper");
    await page.click('button[type="submit"]');
    await page.waitForURL((url) => url.pathname === then);
    return true;
  }

  // Log in again through the development provider, then delete the account:
  // the app must send the browser to the provider's sign-in page again first.
  async function deleteAtProvider() {
    await page.goto(base + "/auth/login");
    await page.waitForURL((url) => url.pathname === "/account" || url.pathname === "/authorize");
    if (!(await atDevelopmentProvider("/account"))) return;
    await Promise.all([page.waitForNavigation(), page.click('form[action$="/account/delete"] button')]);
    await Promise.all([
      page.waitForURL((url) => url.pathname === "/authorize"),
      page.click("a.reauthenticate"),
    ]);
    step("deleting the account leads to the provider's sign-in page again");
    await atDevelopmentProvider("/");
    if (!(await page.content()).includes("Your account here has been deleted")) throw new Error(`deleting the account did not say so: ${page.url()}`);
    const gone = await page.request.get(base + "/account", { maxRedirects: 0 });
    if (gone.status() !== 302) throw new Error(`after deleting the account /account gave ${gone.status()}, want a redirect to log in`);
    step("deleted the account after a new log-in at the provider; its session ended with it");
  }

  // On the admin pages, find `member` by name, disable the account and check
  // that the member's open session (in `memberPage`'s browser) ended.
  async function disableMember(on, memberPage, member) {
    await on.goto(`${base}/admin/users?q=${encodeURIComponent(member.split("@")[0])}`);
    await Promise.all([on.waitForNavigation(), on.click(`text=${member}`)]);
    await Promise.all([on.waitForNavigation(), on.click("text=Disable the account")]);
    if ((await on.locator("td.state").innerText()).trim() !== "disabled") throw new Error("the account page of the member does not say disabled");
    await on.screenshot({ path: screenshot.replace(/\.png$/, "-admin.png"), fullPage: true });
    const ended = await memberPage.request.get(base + "/account", { maxRedirects: 0 });
    if (ended.status() !== 302) throw new Error(`the disabled member's session still opens /account: ${ended.status()}`);
  }

  // Sign in at the development provider's page (make idp) as `email`, in
  // `groups`, with or without a second factor; wait to be on /account.
  async function signInAtProvider(on, email, groups, secondFactor) {
    await on.goto(base + "/auth/login");
    await on.waitForURL((url) => url.pathname === "/authorize");
    await on.fill('input[name="email"]', email);
    await on.fill('input[name="name"]', email.split("@")[0]);
    await on.fill('input[name="groups"]', groups);
    if (secondFactor) await on.check('input[name="second_factor"]');
    await on.click('button[type="submit"]');
    await on.waitForURL((url) => url.pathname === "/account");
  }

  // Roles from the provider: an admin (in the README's group) is kept out of
  // the admin pages until a log-in shows a second factor, then disables a
  // member whose open session ends.
  async function providerAdminDisables() {
    const group = process.env.PROVIDER_ADMIN_GROUP;
    // Every browser here shares one client address, and so LOGIN_RATE_LIMIT (10 a minute).
    const wait = Math.max(0, 63_000 - (Date.now() - firstLogInAt));
    step(`waiting ${Math.round(wait / 1000)} s for a new minute of this client address's log-ins (LOGIN_RATE_LIMIT)`);
    await new Promise((resolve) => setTimeout(resolve, wait));
    const memberBrowser = await openBrowser();
    await signInAtProvider(memberBrowser.page, "bob@example.com", "", false);
    const adminBrowser = await openBrowser();
    const on = adminBrowser.page;
    await signInAtProvider(on, "ada@example.com", group, false);
    expectedStatus = 403;
    await Promise.all([on.waitForNavigation(), on.click('a:text-is("Accounts")')]);
    expectedStatus = null;
    if (!(await on.content()).includes("A second factor is needed")) throw new Error(`an admin without a second factor reached ${on.url()}`);
    step(`signed in at the provider in the group ${group}: the admin pages stay shut without a second factor`);
    await Promise.all([
      on.waitForURL((url) => url.origin === new URL(base).origin && url.pathname === "/"),
      on.click('form[action$="/auth/logout"] button'),
    ]);
    await signInAtProvider(on, "ada@example.com", group, true);
    await Promise.all([on.waitForNavigation(), on.click('a:text-is("Accounts")')]);
    if (new URL(on.url()).pathname !== "/admin/users") throw new Error(`an admin with a second factor reached ${on.url()}`);
    await disableMember(on, memberBrowser.page, "bob@example.com");
    step("logged in again with a second factor: the admin found the member and disabled the account; its open session ended");
    await memberBrowser.context.close();
    await adminBrowser.context.close();
  }

  // The newest link to `path` mailed to `recipient`, from the catcher's NNNN.txt files.
  async function mailedLink(path, recipient = email) {
    const folder = process.env.MAIL_CATCHER_DIR;
    const escaped = path.replace(/[/.]/g, "\\$&");
    const pattern = new RegExp(`https?://\\S+?${escaped}\\?token=[A-Za-z0-9._-]+`);
    for (let tries = 0; tries < 100; tries++) {
      let names = [];
      try {
        names = readdirSync(folder).filter((n) => n.endsWith(".txt")).sort().reverse();
      } catch {}
      for (const name of names) {
        const text = readFileSync(join(folder, name), "utf8");
        const found = text.includes(`To: ${recipient}`) && text.match(pattern);
        if (found) return found[0];
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new Error(`no ${path} link for ${recipient} reached ${folder} in 10 s`);
  }

  async function passwordReset() {
    const newPassword = "tulip anvil orbit seventeen";
    await logIn(page, password);
    expectPath("/account");
    step("logged in again, to watch this session end");
    const other = await openBrowser();
    const there = other.page;
    await there.goto(base + "/auth/login");
    await Promise.all([there.waitForNavigation(), there.click("text=Forgot your password?")]);
    await there.fill('input[name="email"]', email);
    await Promise.all([there.waitForNavigation(), there.click('button[type="submit"]')]);
    if (!(await there.content()).includes("Check your mail")) throw new Error("the reset form did not say to check the mail");
    step("asked for a reset link in a second browser");
    const link = await mailedLink("/auth/reset/new");
    step("read the reset link in the mail the catcher caught");
    await there.goto(link);
    await there.fill('input[name="password"]', newPassword);
    await there.fill('input[name="confirm"]', newPassword);
    await there.screenshot({ path: screenshot.replace(/\.png$/, "-reset.png"), fullPage: true });
    await Promise.all([there.waitForNavigation(), there.click('button[type="submit"]')]);
    if (new URL(there.url()).pathname !== "/auth/login") throw new Error(`after the reset: ${there.url()}, want the log-in page`);
    step("set a new password through the mailed link");
    const after = await page.request.get(base + "/account", { maxRedirects: 0 });
    if (after.status() !== 302) throw new Error(`the first browser's session survived the reset: /account gave ${after.status()}`);
    step("the first browser's session ended with the reset");
    await logIn(there, newPassword);
    if (new URL(there.url()).pathname !== "/account") throw new Error(`the new password did not log in: ${there.url()}`);
    step("the new password logs in");
    // The live run (production, HTTPS) adds and uses a passkey here; the newcomer run after two-factor log-in.
    if (process.env.ACCOUNT_CHANGES === "1") await moveAndDelete(there, newPassword);
    else await passkeys(there, newPassword);
    await other.context.close();
  }

  // On `there`, signed in with `secret`: move the account to a new address
  // through the mailed link, log in with it, then delete the account.
  async function moveAndDelete(there, secret) {
    const moved = email.replace(/^ada-/, "grace-");
    await Promise.all([there.waitForNavigation(), there.click("text=Change your email address")]);
    await there.fill('input[name="email"]', moved);
    await there.fill('input[name="current"]', secret);
    // Signed in, the page's header holds the log-out form's button too.
    await Promise.all([there.waitForNavigation(), there.click('form.stacked button[type="submit"]')]);
    if (!(await there.content()).includes("Check your new address")) throw new Error("the address change did not say to check the new address's mail");
    await there.goto(await mailedLink("/account/email/confirm", moved));
    await there.screenshot({ path: screenshot.replace(/\.png$/, "-address.png"), fullPage: true });
    await Promise.all([there.waitForNavigation(), there.click('form[action$="/account/email/confirm"] button')]);
    if (new URL(there.url()).pathname !== "/auth/login") throw new Error(`after the address change: ${there.url()}, want the log-in page`);
    step(`moved the account to ${moved} through the link mailed there`);
    await logIn(there, secret, moved);
    if (new URL(there.url()).pathname !== "/account") throw new Error(`the new address did not log in: ${there.url()}`);
    step("the new address logs in");
    await notes(there);
    // Every form log-in offers both: a missing link fails the proof rather than skipping it.
    await twoFactor(there, secret, moved);
    await passkeys(there, secret);
    await Promise.all([there.waitForNavigation(), there.click("text=Delete your account")]);
    await there.fill('input[name="current"]', secret);
    await Promise.all([there.waitForNavigation(), there.click('form.stacked button[type="submit"]')]);
    if (!(await there.content()).includes("Your account has been deleted")) throw new Error(`deleting the account did not say so: ${there.url()}`);
    // Not a log-in attempt: those are rate limited, and this run has made its share.
    const gone = await there.request.get(base + "/account", { maxRedirects: 0 });
    if (gone.status() !== 302) throw new Error(`after deleting the account /account gave ${gone.status()}, want a redirect to log in`);
    step("deleted the account; its session ended with it");
  }

  // On `there`, signed in: turn on two-factor log-in with the secret the
  // set-up page shows, log out, and log in again with the password and a code.
  async function twoFactor(there, secret, address) {
    await Promise.all([there.waitForNavigation(), there.click("text=Two-factor log-in")]);
    const totpSecret = await enrol(there, secret, "-two-factor.png");
    step("turned on two-factor log-in: scanned secret, code from this script's TOTP, 10 recovery codes shown");
    await Promise.all([there.waitForNavigation(), there.click('form[action$="/auth/logout"] button')]);
    await logIn(there, secret, address);
    if (new URL(there.url()).pathname !== "/auth/two-factor") throw new Error(`the password alone went to ${there.url()}, want the code page`);
    const early = await there.request.get(base + "/account", { maxRedirects: 0 });
    if (early.status() !== 302) throw new Error(`/account opened before the code: ${early.status()}`);
    // The set-up spent this step's code: the app's next one (it accepts a step either side).
    await there.fill('input[name="code"]', totp(totpSecret, Date.now() + 30_000));
    await Promise.all([there.waitForNavigation(), there.click('form.stacked button[type="submit"]')]);
    if (new URL(there.url()).pathname !== "/account") throw new Error(`the code did not log in: ${there.url()}`);
    step("logged in with the password and then a code; /account stayed shut in between");
  }

  // On `there`, signed in (with two-factor log-in on), at the account page:
  // add a passkey through a virtual authenticator (Chromium's DevTools
  // WebAuthn domain, verifying its user), log out, log in with it (no
  // password, no code), see a forged signature refused, and log in with it again.
  async function passkeys(there, secret) {
    const cdp = await there.context().newCDPSession(there);
    await cdp.send("WebAuthn.enable", { enableUI: false });
    const { authenticatorId } = await cdp.send("WebAuthn.addVirtualAuthenticator", {
      options: {
        protocol: "ctap2",
        transport: "internal",
        hasResidentKey: true,
        hasUserVerification: true,
        isUserVerified: true,
        automaticPresenceSimulation: true,
      },
    });
    const held = async () => (await cdp.send("WebAuthn.getCredentials", { authenticatorId })).credentials;
    await Promise.all([there.waitForNavigation(), there.click('a:text-is("Passkeys")')]);
    await there.fill('input[name="name"]', "This laptop");
    await there.fill('input[name="current"]', secret);
    await Promise.all([there.waitForNavigation(), there.click('#add-passkey button[type="submit"]')]);
    if (!(await there.content()).includes("Passkey added: This laptop.")) throw new Error(`adding a passkey did not say so: ${there.url()}`);
    const made = await held();
    if (made.length !== 1 || made[0].rpId !== new URL(base).hostname || !made[0].isResidentCredential) {
      throw new Error(`the authenticator holds ${JSON.stringify(made.map(({ rpId, isResidentCredential }) => ({ rpId, isResidentCredential })))}, want one discoverable key for ${new URL(base).hostname}`);
    }
    await there.screenshot({ path: screenshot.replace(/\.png$/, "-passkeys.png"), fullPage: true });
    step(`added a passkey from a virtual authenticator; it holds one discoverable key for ${made[0].rpId}`);
    const passkeyLogIn = async () => {
      await Promise.all([there.waitForNavigation(), there.click('form[action$="/auth/logout"] button')]);
      await there.goto(base + "/auth/login");
      await there.click('#passkey-login button[type="submit"]');
    };
    await passkeyLogIn();
    await there.waitForURL((url) => url.pathname === "/account");
    const used = await held();
    if (used[0].signCount < 1) throw new Error(`the passkey log-in left the signature counter at ${used[0].signCount}`);
    step("logged out and in again with the passkey alone: no password, no two-factor code");
    await cdp.send("WebAuthn.setResponseOverrideBits", { authenticatorId, isBogusSignature: true });
    expectedStatus = 401;
    await passkeyLogIn();
    await there.locator(".passkey-problem", { hasText: "This passkey did not log you in" }).waitFor();
    expectedStatus = null;
    if (new URL(there.url()).pathname !== "/auth/login") throw new Error(`a forged passkey signature went to ${there.url()}`);
    const shut = await there.request.get(base + "/account", { maxRedirects: 0 });
    if (shut.status() !== 302) throw new Error(`a forged passkey signature opened /account: ${shut.status()}`);
    step("a forged passkey signature is refused, with the reason on the log-in page");
    await cdp.send("WebAuthn.setResponseOverrideBits", { authenticatorId, isBogusSignature: false });
    await Promise.all([there.waitForURL((url) => url.pathname === "/account"), there.click('#passkey-login button[type="submit"]')]);
    await cdp.send("WebAuthn.removeVirtualAuthenticator", { authenticatorId });
    await cdp.detach();
  }

  // The API's passkeys as its README tells a client application to use them:
  // a page at CLIENT_APP_URL (served by this browser, with /api passed on to
  // the app as a shared proxy would) registers an account, confirms it with
  // the mailed link, adds a passkey from a virtual authenticator with
  // navigator.credentials.create(), logs in with it alone through .get(), and
  // sees a forged signature refused.
  async function clientPasskeys(clientUrl) {
    const origin = new URL(clientUrl).origin;
    const client = await openBrowser();
    await client.context.route(`${origin}/**`, async (route) => {
      const url = new URL(route.request().url());
      if (url.pathname.startsWith("/api/")) {
        await route.fulfill({ response: await route.fetch({ url: base + url.pathname + url.search }) });
      } else {
        await route.fulfill({ contentType: "text/html", body: "<!doctype html><title>Client</title><p>The client application." });
      }
    });
    const on = client.page;
    await on.goto(origin + "/");
    retriesTooMany = true;
    // One API call from the page, as the client application's code makes it;
    // a 429 is waited out once, as its Retry-After asks but for at most 65 s
    // (the README's commands and the probes before this share the client
    // address's allowance of each log-in route).
    const api = async (method, path, body, token) => {
      for (let tries = 0; ; tries++) {
        const answer = await on.evaluate(
          async ({ method, path, body, token }) => {
            const headers = { Accept: "application/json" };
            if (body !== undefined) headers["Content-Type"] = "application/json";
            if (token) headers.Authorization = `Bearer ${token}`;
            const response = await fetch(`/api/v1${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
            const text = await response.text();
            return { status: response.status, retryAfter: response.headers.get("Retry-After"), json: text ? JSON.parse(text) : null };
          },
          { method, path, body, token },
        );
        if (answer.status !== 429 || tries > 0) return answer;
        const wait = Math.min(Number(answer.retryAfter) || 60, 65);
        step(`${path} answered 429 (Retry-After: ${answer.retryAfter}): waiting ${wait} s`);
        await new Promise((resolve) => setTimeout(resolve, wait * 1000));
      }
    };
    const expectStatus = (answer, status, what) => {
      if (answer.status !== status) throw new Error(`${what}: ${answer.status} ${JSON.stringify(answer.json)}, want ${status}`);
      return answer.json;
    };
    const address = `passkey-${Date.now()}@example.com`;
    expectStatus(await api("POST", "/auth/register", { email: address, password }), 202, "registering");
    const link = new URL(await mailedLink("/confirm-address", address));
    if (link.origin !== origin) throw new Error(`the confirmation link leads to ${link.origin}, not the client application at ${origin}`);
    const confirm = { token: link.searchParams.get("token"), password };
    expectStatus(await api("POST", "/auth/confirm", confirm), 200, "confirming the address");
    const { access_token: passwordToken } = expectStatus(await api("POST", "/auth/token", { email: address, password }), 200, "the password log-in");
    step(`the client application at ${origin} registered ${address}, confirmed it with the mailed link and logged in with the password`);

    const cdp = await on.context().newCDPSession(on);
    await cdp.send("WebAuthn.enable", { enableUI: false });
    const { authenticatorId } = await cdp.send("WebAuthn.addVirtualAuthenticator", {
      options: { protocol: "ctap2", transport: "internal", hasResidentKey: true, hasUserVerification: true, isUserVerified: true, automaticPresenceSimulation: true },
    });
    const held = async () => (await cdp.send("WebAuthn.getCredentials", { authenticatorId })).credentials;
    const adding = expectStatus(await api("POST", "/me/passkeys/options", { name: "This laptop", password }, passwordToken), 200, "asking to add a passkey");
    const made = await on.evaluate(
      async (options) => (await navigator.credentials.create({ publicKey: PublicKeyCredential.parseCreationOptionsFromJSON(options) })).toJSON(),
      adding.options,
    );
    const added = { ceremony_token: adding.ceremony_token, credential: made };
    expectStatus(await api("POST", "/me/passkeys", added, passwordToken), 201, "adding the passkey");
    const keys = await held();
    const rpId = new URL(clientUrl).hostname;
    if (keys.length !== 1 || keys[0].rpId !== rpId || !keys[0].isResidentCredential) {
      throw new Error(`the authenticator holds ${JSON.stringify(keys.map(({ rpId, isResidentCredential }) => ({ rpId, isResidentCredential })))}, want one discoverable key for ${rpId}`);
    }
    const listed = expectStatus(await api("GET", "/me/passkeys", undefined, passwordToken), 200, "listing passkeys");
    if (listed.passkeys?.length !== 1) throw new Error(`GET /me/passkeys lists ${JSON.stringify(listed)}, want the one passkey`);
    step(`added a passkey through the API from a virtual authenticator; it holds one discoverable key for ${rpId}`);

    const passkeyLogIn = async () => {
      const start = expectStatus(await api("POST", "/auth/passkey/options", {}), 200, "asking to log in with a passkey");
      const assertion = await on.evaluate(
        async (options) => (await navigator.credentials.get({ publicKey: PublicKeyCredential.parseRequestOptionsFromJSON(options) })).toJSON(),
        start.options,
      );
      return api("POST", "/auth/passkey", { ceremony_token: start.ceremony_token, credential: assertion });
    };
    const { access_token: passkeyToken } = expectStatus(await passkeyLogIn(), 200, "the passkey log-in");
    const me = expectStatus(await api("GET", "/me", undefined, passkeyToken), 200, "reading the account with the passkey log-in's token");
    if (me.email !== address) throw new Error(`the passkey log-in's token reads the account ${me.email}, want ${address}`);
    if ((await held())[0].signCount < 1) throw new Error("the passkey log-in left the signature counter at 0");
    step("logged in through the API with the passkey alone (no password), and read the account with its token");
    await cdp.send("WebAuthn.setResponseOverrideBits", { authenticatorId, isBogusSignature: true });
    expectedStatus = 401;
    const forged = await passkeyLogIn();
    expectedStatus = null;
    if (forged.status !== 401 || forged.json?.access_token) throw new Error(`a forged passkey signature got ${forged.status} ${JSON.stringify(forged.json)}, want 401 and no token`);
    // The same key, signing truly again, still logs in: the 401 was the forgery's.
    await cdp.send("WebAuthn.setResponseOverrideBits", { authenticatorId, isBogusSignature: false });
    expectStatus(await passkeyLogIn(), 200, "the passkey log-in after the forged one");
    step("a forged passkey signature gets 401 and no token; the key, signing truly, logs in again");
    await cdp.send("WebAuthn.removeVirtualAuthenticator", { authenticatorId });
    await cdp.detach();
    await client.context.close();
    retriesTooMany = false;
  }

  // On `there`, signed in, at the account page: write a note and find it listed.
  async function notes(there) {
    await Promise.all([there.waitForNavigation(), there.click("text=Your notes")]);
    await Promise.all([there.waitForNavigation(), there.click("text=New note")]);
    await there.fill('input[name="title"]', "Groceries <b>bold?</b>");
    await there.fill('textarea[name="body"]', "eggs, flour");
    await Promise.all([there.waitForNavigation(), there.click('form.stacked button[type="submit"]')]);
    const listed = await there.locator("ul.notes li a").allInnerTexts();
    if (!listed.includes("Groceries <b>bold?</b>")) throw new Error(`the new note is not listed as typed: ${JSON.stringify(listed)}`);
    await there.goto(base + "/account");
    step("wrote a note and found it listed, markup shown as typed");
  }

  // On `on`, at the two-factor page: turn it on with the secret the set-up
  // page shows and a code of this script's TOTP; the secret.
  async function enrol(on, secret, shot) {
    await Promise.all([on.waitForNavigation(), on.click("text=Turn two-factor log-in on")]);
    const drawn = await on.locator("img.qr-code").evaluate((img) => img.complete && img.naturalWidth > 0);
    if (!drawn) throw new Error("the set-up page's QR code did not load");
    const totpSecret = (await on.locator("code.totp-secret").innerText()).trim();
    if (shot) await on.screenshot({ path: screenshot.replace(/\.png$/, shot), fullPage: true });
    await on.fill('input[name="code"]', totp(totpSecret, Date.now()));
    await on.fill('input[name="current"]', secret);
    await Promise.all([on.waitForNavigation(), on.click('form.stacked button[type="submit"]')]);
    const codes = await on.locator("ul.recovery-codes li").count();
    if (codes !== 10) throw new Error(`turning on two-factor log-in showed ${codes} recovery codes, want 10: ${on.url()}`);
    return totpSecret;
  }

  // ADMIN_EMAIL and MEMBER_EMAIL (made with `flask users create`, password
  // ADMIN_PASSWORD): the member logs in; the admin logs in, is asked for
  // two-factor log-in before the admin pages open, turns it on, finds the
  // member and disables the account; the member's open session ends.
  async function adminDisables() {
    const { ADMIN_EMAIL: admin, MEMBER_EMAIL: member, ADMIN_PASSWORD: secret } = process.env;
    // Every browser here shares one client address, and so LOGIN_RATE_LIMIT (5 a minute).
    const wait = Math.max(0, 63_000 - (Date.now() - firstLogInAt));
    step(`waiting ${Math.round(wait / 1000)} s for a new minute of this client address's log-ins (LOGIN_RATE_LIMIT)`);
    await new Promise((resolve) => setTimeout(resolve, wait));
    const memberBrowser = await openBrowser();
    await logIn(memberBrowser.page, secret, member);
    if (new URL(memberBrowser.page.url()).pathname !== "/account") throw new Error(`the member did not log in: ${memberBrowser.page.url()}`);
    const adminBrowser = await openBrowser();
    const on = adminBrowser.page;
    await logIn(on, secret, admin);
    await Promise.all([on.waitForNavigation(), on.click('a:text-is("Accounts")')]);
    if (new URL(on.url()).pathname !== "/account/two-factor") throw new Error(`an admin without two-factor log-in reached ${on.url()}`);
    step("the admin pages sent an admin without two-factor log-in to turn it on");
    await enrol(on, secret, null);
    await disableMember(on, memberBrowser.page, member);
    step("an admin with two-factor log-in found the member and disabled the account; its open session ended");
    await memberBrowser.context.close();
    await adminBrowser.context.close();
  }
} catch (err) {
  problems.push(err.message);
} finally {
  await browser.close();
}

for (const p of problems) console.log(`  FAIL browser: ${p}`);
process.exit(problems.length ? 1 : 0);
