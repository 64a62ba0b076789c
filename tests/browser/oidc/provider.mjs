// A real OpenID Connect provider for the tests (panva's oidc-provider,
// certified by the OpenID Foundation, pinned in package-lock.json), on a
// loopback port. It reads its setting as one JSON line on stdin:
//   { "port": 0, "clients": [{ client_id, client_secret, redirect_uris }],
//     "accounts": { "<subject>": { "email": "…", "email_verified": true,
//                                  "name": "…" } } }
// and prints `LISTENING <issuer>` once it serves. Signing in is
// interactive, as at a real provider: a login page asks for the account's
// subject, and a consent page grants the client's scopes.
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

const provider = new Provider(issuer, {
  clients: setting.clients,
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
  ttl: { IdToken: 600, AccessToken: 600, Session: 3600, Grant: 3600, Interaction: 600 },
});
// Plain HTTP on loopback: the tests' provider, not a production one.
provider.proxy = false;

const server = provider.listen(port, "127.0.0.1", () => {
  console.log(`LISTENING ${issuer}`);
});
lines.on("close", () => server.close(() => process.exit(0)));
process.on("SIGTERM", () => server.close(() => process.exit(0)));
