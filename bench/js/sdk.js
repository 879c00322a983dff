// The official JS SDK column of `make bench` (not a test): N sequential calls
// after an untimed warm-up of N/10; prints "<calls per second>".
//   node bench/js/sdk.js user|page BASE_URL TOKEN USER_ID N
// The SDK comes from bench/js/package-lock.json: (cd bench/js && npm ci).
'use strict';
const platformClient = require('purecloud-platform-client-v2');

async function main() {
  const [shape, base, token, userId, nArg] = process.argv.slice(2);
  const n = Number(nArg);
  if (!(n > 0) || (shape !== 'user' && shape !== 'page')) throw new Error('usage: node sdk.js user|page BASE_URL TOKEN USER_ID N');
  const client = platformClient.ApiClient.instance;
  client.setAccessToken(token);
  const u = new URL(base); // the SDK's gateway setting points it at the fixture
  client.setGateway({ host: u.hostname, protocol: u.protocol.replace(':', ''), port: Number(u.port) });
  const users = new platformClient.UsersApi();
  const call = shape === 'user' ? () => users.getUser(userId) : () => users.getUsers({ pageSize: 500 });
  const check = await call();
  if (shape === 'user' ? check.id !== userId : check.entities.length !== 500) throw new Error('unexpected response');
  for (let i = 0; i < Math.floor(n / 10); i++) await call();
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) await call();
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  console.log((n / s).toFixed(3));
}
main().catch((e) => { console.error(`sdk.js: ${(e && e.message) || e}`); process.exit(1); });
