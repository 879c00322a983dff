// Per-call latency of the official JavaScript SDK (purecloud-platform-client-v2)
// against the emulator, for comparison with bench/per-call.lua (not a test).
//   node bench/js-sdk.js BASE_URL TOKEN USER_ID [N]
// Install the SDK first: (cd bench && npm install --no-save purecloud-platform-client-v2)
const platformClient = require('purecloud-platform-client-v2');

async function main() {
  const [base, token, userId, n = '1000'] = process.argv.slice(2);
  const client = platformClient.ApiClient.instance;
  client.setAccessToken(token);
  const u = new URL(base); // the SDK's gateway setting points it at the emulator
  client.setGateway({ host: u.hostname, protocol: u.protocol.replace(':', ''), port: Number(u.port) });
  const users = new platformClient.UsersApi();
  for (let i = 0; i < 50; i++) await users.getUser(userId); // warm-up
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < Number(n); i++) await users.getUser(userId);
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  console.log(`js-sdk ${require('purecloud-platform-client-v2/package.json').version}: ${n} sequential getUser: ` +
    `${(ms / n).toFixed(3)} ms per call`);
}
main().catch((e) => { console.error(e && e.message || e); process.exit(1); });
