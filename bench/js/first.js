// The JS SDK's start to first answer for `make bench` (not a test): require,
// configure, one getUser, exit. Timed from outside, process start included.
//   node bench/js/first.js BASE_URL TOKEN USER_ID
'use strict';
const platformClient = require('purecloud-platform-client-v2');

const [base, token, userId] = process.argv.slice(2);
const client = platformClient.ApiClient.instance;
client.setAccessToken(token);
const u = new URL(base);
client.setGateway({ host: u.hostname, protocol: u.protocol.replace(':', ''), port: Number(u.port) });
new platformClient.UsersApi().getUser(userId).then((user) => {
  if (user.id !== userId) throw new Error('unexpected response');
}).catch((e) => { console.error(`first.js: ${(e && e.message) || e}`); process.exit(1); });
