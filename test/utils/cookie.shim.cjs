// Jest (on Node < 24.9) cannot `require` an ES-module-only package. light-my-request, behind
// Fastify's inject(), requires cookie 2 (ES module only); express and cookie-parser require
// cookie 0.7 (CommonJS). Jest maps `cookie` here: cookie 0.7's API, plus the one cookie 2
// function light-my-request uses.
const path = require('node:path');

const cookie = require(path.join(__dirname, '../../node_modules/cookie/index.js'));

/** cookie 2's `stringifySetCookie({ name, value, ...attributes })` on cookie 0.7's `serialize`. */
function stringifySetCookie(setCookie, options) {
  const { name, value, ...attributes } = setCookie;
  return cookie.serialize(name, value, { ...attributes, ...options });
}

module.exports = { ...cookie, stringifySetCookie };
