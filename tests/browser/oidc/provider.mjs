// A real OpenID Connect provider for the tests (panva's oidc-provider,
// certified by the OpenID Foundation, pinned in package-lock.json), on a
// loopback port. It reads its setting as one JSON line on stdin:
//   { "port": 0,
//     "clients": [{ client_id, client_secret, redirect_uris,
//                   post_logout_redirect_uris }],
//     "accounts": { "<subject>": { "email": "…", "email_verified": true,
//                                  "name": "…" } } }
// and prints `LISTENING <issuer>` once it serves. Signing in is
// interactive, as at a real provider: a login page asks for the account's
// subject, and a consent page grants the client's scopes.
//
// Two doors are for the tests alone, as a misbehaving or attacked
// provider would act:
//   POST /__test/rotate        signs with a new key from now on (and
//                              publishes only it), as a key rotation does;
//   POST /__test/tamper?mode=  changes the next ID token the token
//                              endpoint hands out: `signature` (signed by
//                              another key under the same key id),
//                              `audience` (issued to another client),
//                              `expired` (expired ten minutes ago), or
//                              `replay` (the previous ID token again).
import crypto from "node:crypto";
import http from "node:http";
import readline from "node:readline";
import Provider from "oidc-provider";

const lines = readline.createInterface({ input: process.stdin });
const first = await new Promise((resolve) => lines.once("line", resolve));
const setting = JSON.parse(first);
const accounts = setting.accounts || {};

// A port chosen first, so the issuer URL is known before the provider is.
const probe = http.createServer();
await new Promise((resolve) => probe.listen(setting.port || 0, "127.0.0.1", resolve));
const port = probe.address().port;
await new Promise((resolve) => probe.close(resolve));
const issuer = `http://127.0.0.1:${port}`;

/** A fresh RS256 signing key: the private key and its public JWK. */
function signingKey() {
  const { privateKey } = crypto.generateKeyPairSync("rsa", { modulusLength: 2048 });
  const kid = crypto.randomBytes(8).toString("hex");
  const jwk = { ...privateKey.export({ format: "jwk" }), kid, alg: "RS256", use: "sig" };
  return { privateKey, kid, jwk };
}

let key = signingKey();
let tamper = null;
let lastIdToken = null;

const b64 = (value) => Buffer.from(value).toString("base64url");

/** `token` with its claims changed by `change` and signed by `signer`. */
function resigned(token, change, signer) {
  const [header, payload] = token.split(".");
  const claims = change(JSON.parse(Buffer.from(payload, "base64url")));
  const body = `${header}.${b64(JSON.stringify(claims))}`;
  return `${body}.${b64(crypto.sign("sha256", Buffer.from(body), signer))}`;
}

function tampered(token, mode) {
  const now = Math.floor(Date.now() / 1000);
  switch (mode) {
    case "signature":
      return resigned(token, (c) => c, signingKey().privateKey);
    case "audience":
      return resigned(token, (c) => ({ ...c, aud: "another-client", azp: "another-client" }), key.privateKey);
    case "expired":
      return resigned(token, (c) => ({ ...c, iat: now - 1200, exp: now - 600 }), key.privateKey);
    case "replay":
      return lastIdToken || token;
    default:
      return token;
  }
}

function build() {
  const provider = new Provider(issuer, {
    // Each client may use the code flow and, for the command line, the
    // device flow.
    clients: (setting.clients || []).map((client) => ({
      grant_types: ["authorization_code", "urn:ietf:params:oauth:grant-type:device_code"],
      ...client,
    })),
    jwks: { keys: [key.jwk] },
    pkce: { required: () => true },
    claims: {
      openid: ["sub"],
      email: ["email", "email_verified"],
      profile: ["name"],
    },
    features: {
      devInteractions: { enabled: true },
      deviceFlow: { enabled: true },
      rpInitiatedLogout: { enabled: true },
    },
    async findAccount(_ctx, sub) {
      const account = accounts[sub];
      if (!account) return undefined;
      return {
        accountId: sub,
        async claims() {
          return { sub, ...account };
        },
      };
    },
    ttl: { IdToken: 600, AccessToken: 600, Session: 3600, Grant: 3600, Interaction: 600, DeviceCode: 600 },
  });
  // Plain HTTP on loopback: the tests' provider, not a production one.
  provider.proxy = false;
  provider.use(async (ctx, next) => {
    if (ctx.method === "POST" && ctx.path === "/__test/rotate") {
      key = signingKey();
      handle = build().callback();
      ctx.body = { kid: key.kid };
      return;
    }
    if (ctx.method === "POST" && ctx.path === "/__test/tamper") {
      tamper = ctx.query.mode || null;
      ctx.body = { mode: tamper };
      return;
    }
    await next();
    if (ctx.path === "/token" && ctx.body && typeof ctx.body.id_token === "string") {
      const issued = ctx.body.id_token;
      if (tamper) {
        ctx.body = { ...ctx.body, id_token: tampered(issued, tamper) };
        tamper = null;
      }
      lastIdToken = issued;
    }
  });
  return provider;
}

let handle = build().callback();
const server = http.createServer((req, res) => handle(req, res));
server.listen(port, "127.0.0.1", () => {
  console.log(`LISTENING ${issuer}`);
});
lines.on("close", () => server.close(() => process.exit(0)));
process.on("SIGTERM", () => server.close(() => process.exit(0)));
