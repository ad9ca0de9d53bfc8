// ES module entry point for the webshoes client.
//   import WebShoes from '/webshoes/webshoes.mjs';
// The implementation lives in webshoes.js (a classic script that sets globalThis.WebShoes);
// importing it for its side effect keeps a single copy of the code.
import './webshoes.js';

const WebShoes = globalThis.WebShoes;

export { WebShoes };
export default WebShoes;
