/*
 * webshoes.js - browser (and Node) client for a webshoes WebSocket endpoint.
 *
 * Classic script: defines the global `WebShoes` (and `module.exports` under CommonJS).
 * ES module users import `webshoes.mjs`, which re-exports the same function.
 * No dependencies; the core needs no DOM and no secure context.
 *
 *   const ws = WebShoes({url: 'ws://127.0.0.1:15801/', cb: (type, data) => console.log(type, data)});
 *   ws.msg('', 'cmd/add', {a: 3, b: 4}, (r) => console.log(r.result));
 *   ws.onEvent('', 'sensorUpdate', {}, (data) => console.log(data));
 *
 * Reference: docs/webshoes-js.md
 */
(function (root) {
  'use strict';

  var DEFAULTS = {
    reconnect: 1000,      // first reconnect delay (ms); doubles per failed attempt
    maxReconnect: 30000,  // ceiling of the reconnect delay (ms)
    cbTimeout: 30000,     // a request without a reply after this long fails (ms)
    maxQueue: 100,        // requests held while disconnected
    rep: 'r'              // reply field that carries the result
  };

  var WS_OPEN = 1;

  // Errors the client makes up itself (as opposed to error replies from the server).
  var LOCAL_ERRORS = ['Not connected', 'Disconnected', 'Closed', 'Request timed out'];

  // 32 lowercase hex chars. crypto.getRandomValues works in insecure contexts too
  // (unlike crypto.randomUUID); Math.random is the last resort.
  function randomId() {
    var bytes = new Uint8Array(16);
    var c = root.crypto;
    if (c && typeof c.getRandomValues === 'function') {
      c.getRandomValues(bytes);
    } else {
      for (var i = 0; i < bytes.length; i++) bytes[i] = Math.floor(Math.random() * 256);
    }
    var out = '';
    for (var j = 0; j < bytes.length; j++) out += (bytes[j] < 16 ? '0' : '') + bytes[j].toString(16);
    return out;
  }

  function now() {
    return Date.now() / 1000;
  }

  function hasDocument() {
    return typeof document !== 'undefined' && document && typeof document.querySelector === 'function';
  }

  // A liveness token: '' (always alive) or a CSS selector that must still match an element.
  function isAlive(id) {
    if (!id || !hasDocument()) return true;
    try {
      return document.querySelector(id) !== null;
    } catch (e) {
      return true;  // not a valid selector: never prune on it
    }
  }

  // Run a user callback; an exception is rethrown asynchronously so it shows up in the
  // console without breaking the client's own bookkeeping.
  function safeCall(fn) {
    if (typeof fn !== 'function') return;
    var args = Array.prototype.slice.call(arguments, 1);
    try {
      fn.apply(null, args);
    } catch (e) {
      setTimeout(function () { throw e; }, 0);
    }
  }

  function defaultUrl() {
    var loc = root.location;
    if (!loc || !loc.host) throw new Error('WebShoes: no url given and no page location to derive one from');
    return (loc.protocol === 'https:' ? 'wss:' : 'ws:') + '//' + loc.host + '/';
  }

  function WebShoes(opts) {
    opts = opts || {};
    // Already running: hand back the same client.  After close() it starts afresh.
    if (opts._wsState && !opts._wsState.closed) return opts;

    for (var k in DEFAULTS) {
      if (opts[k] === undefined || opts[k] === null) opts[k] = DEFAULTS[k];
    }
    if (!opts.url) opts.url = defaultUrl();
    if (!opts.uid) opts.uid = randomId();

    var state = {
      closed: false,      // close() was called: no reconnects
      attempts: 0,        // failed connection attempts since the last successful open
      timer: null,        // pending reconnect timer
      pending: {},        // tid -> {id, cb, msg, timer, sent}
      queue: [],          // tids of requests waiting for a connection, in order
      subs: {}            // evt -> [{id, evt, params, cb, msg}]
    };
    opts._wsState = state;
    opts.isOpen = false;
    opts.xx = null;
    if (hasDocument()) opts._q = document.querySelector.bind(document);

    function status(type, data) {
      safeCall(opts.cb, type, data);
    }

    function send(obj) {
      var ws = opts.xx;
      if (!ws || ws.readyState !== WS_OPEN) return false;
      try {
        ws.send(JSON.stringify(obj));
        return true;
      } catch (e) {
        status('error', 'Send failed: ' + (e && e.message ? e.message : e));
        return false;
      }
    }

    function finish(tid, result) {
      var entry = state.pending[tid];
      if (!entry) return;
      delete state.pending[tid];
      if (entry.timer) clearTimeout(entry.timer);
      var qi = state.queue.indexOf(tid);
      if (qi >= 0) state.queue.splice(qi, 1);
      if (entry.cb && isAlive(entry.id)) safeCall(entry.cb, result, entry.msg);
    }

    // Register a request (command or subscription) and send it now, or queue it.
    function request(id, msg, cb) {
      var tid = msg.tid;
      var entry = {id: id, cb: cb, msg: msg, timer: null, sent: false};
      if (!opts.isOpen && state.queue.length >= opts.maxQueue) {
        if (cb) safeCall(cb, {error: 'Not connected'}, msg);
        return msg;
      }
      state.pending[tid] = entry;
      if (opts.cbTimeout > 0) {
        entry.timer = setTimeout(function () {
          entry.timer = null;
          finish(tid, {error: 'Request timed out'});
        }, opts.cbTimeout);
      }
      if (opts.isOpen && send(msg)) entry.sent = true;
      else state.queue.push(tid);
      return msg;
    }

    function flushQueue() {
      var tids = state.queue;
      state.queue = [];
      for (var i = 0; i < tids.length; i++) {
        var entry = state.pending[tids[i]];
        if (!entry) continue;
        entry.msg.t = now();
        if (send(entry.msg)) entry.sent = true;
        else state.queue.push(tids[i]);
      }
    }

    function failSent(reason) {
      var tids = Object.keys(state.pending);
      for (var i = 0; i < tids.length; i++) {
        var entry = state.pending[tids[i]];
        if (entry && (entry.sent || reason === 'Closed')) finish(tids[i], {error: reason});
      }
    }

    function subscribeMsg(sub) {
      return {uid: opts.uid, evt: sub.evt, q: sub.params, tid: randomId(), t: now()};
    }

    function sendSubscription(sub) {
      sub.msg = subscribeMsg(sub);
      // The ack is routed by tid; only a refusal reaches the subscriber's callback.
      var msg = sub.msg;
      request(sub.id, msg, function (reply) {
        if (reply && reply.error !== undefined && LOCAL_ERRORS.indexOf(reply.error) < 0) safeCall(sub.cb, reply, msg);
      });
    }

    function pruneSubs(evt) {
      var list = state.subs[evt];
      if (!list) return;
      var alive = list.filter(function (s) { return isAlive(s.id); });
      if (alive.length) {
        state.subs[evt] = alive;
      } else {
        delete state.subs[evt];
        send({uid: opts.uid, evt: evt, unsubscribe: true, tid: randomId(), t: now()});
      }
    }

    function onOpen() {
      opts.isOpen = true;
      state.attempts = 0;
      status('open');
      var evts = Object.keys(state.subs);
      for (var i = 0; i < evts.length; i++) {
        pruneSubs(evts[i]);
        var list = state.subs[evts[i]] || [];
        for (var j = 0; j < list.length; j++) {
          sendSubscription(list[j]);
          status('rehook', list[j]);
        }
      }
      flushQueue();
    }

    function onMessage(ev) {
      var data;
      try {
        data = JSON.parse(ev.data);
      } catch (e) {
        status('error', 'Invalid JSON from server: ' + (e && e.message ? e.message : e));
        return;
      }
      if (!data || typeof data !== 'object' || Array.isArray(data)) return;

      var tid = data.tid;
      if (tid !== undefined && tid !== null && state.pending[tid]) {
        var result;
        if (data.error !== undefined) {
          result = {error: data.error};
        } else if (Object.prototype.hasOwnProperty.call(data, opts.rep)) {
          result = data[opts.rep];
        } else {
          // The group replies with rep='' (result merged into the top level).
          result = {};
          for (var k in data) {
            if (k !== 'tid' && k !== 't') result[k] = data[k];
          }
        }
        finish(tid, result);
        return;
      }
      if (data.error !== undefined) {
        status('error', data.error);
        return;
      }
      if (data.warning !== undefined) status('warning', data.warning);
      if (typeof data.evt === 'string' && state.subs[data.evt]) {
        pruneSubs(data.evt);
        var list = (state.subs[data.evt] || []).slice();
        var payload = data.r === undefined || data.r === null ? {} : data.r;
        for (var i = 0; i < list.length; i++) safeCall(list[i].cb, payload, list[i].msg);
      }
    }

    function scheduleReconnect() {
      if (state.closed || state.timer) return;
      var base = Math.min(opts.maxReconnect, opts.reconnect * Math.pow(2, state.attempts));
      var delay = base * (0.5 + Math.random() * 0.5);
      state.attempts++;
      state.timer = setTimeout(function () {
        state.timer = null;
        connect();
      }, delay);
    }

    function onClose(ws) {
      if (ws !== opts.xx) return;  // a stale socket
      opts.isOpen = false;
      opts.xx = null;
      failSent('Disconnected');
      status('close');
      scheduleReconnect();
    }

    function connect() {
      if (state.closed) return;
      var Ctor = opts.WebSocket || root.WebSocket;
      var ws;
      try {
        if (!Ctor) throw new Error('WebSocket is not available');
        ws = new Ctor(opts.url);
      } catch (e) {
        opts.xx = null;
        status('error', e && e.message ? e.message : String(e));
        status('close');
        scheduleReconnect();
        return;
      }
      opts.xx = ws;
      ws.onopen = function () { if (ws === opts.xx) onOpen(); };
      ws.onmessage = function (ev) { if (ws === opts.xx) onMessage(ev); };
      ws.onerror = function () { if (ws === opts.xx) status('error', 'WebSocket error'); };
      ws.onclose = function () { onClose(ws); };
    }

    opts.msg = function (id, cmd, params, cb) {
      var m = {uid: opts.uid, cmd: cmd, q: params === undefined ? {} : params, tid: randomId(), t: now()};
      if (state.closed) {
        if (cb) safeCall(cb, {error: 'Not connected'}, m);
        return m;
      }
      return request(id || '', m, cb);
    };

    opts.onEvent = function (id, evt, params, cb) {
      id = id || '';
      var list = state.subs[evt] || (state.subs[evt] = []);
      var sub = null;
      for (var i = 0; i < list.length; i++) {
        if (list[i].id === id) sub = list[i];
      }
      if (sub) {
        sub.params = params === undefined ? {} : params;
        sub.cb = cb;
      } else {
        sub = {id: id, evt: evt, params: params === undefined ? {} : params, cb: cb, msg: null};
        list.push(sub);
      }
      if (opts.isOpen) sendSubscription(sub);
      else sub.msg = subscribeMsg(sub);  // sent by onOpen
      return sub.msg;
    };

    opts.offEvent = function (id, evt) {
      var list = state.subs[evt];
      if (!list) return false;
      var keep = list.filter(function (s) { return s.id !== (id || ''); });
      if (keep.length === list.length) return false;
      if (keep.length) {
        state.subs[evt] = keep;
      } else {
        delete state.subs[evt];
        send({uid: opts.uid, evt: evt, unsubscribe: true, tid: randomId(), t: now()});
      }
      return true;
    };

    opts.close = function () {
      if (state.closed) return;
      state.closed = true;
      if (state.timer) {
        clearTimeout(state.timer);
        state.timer = null;
      }
      var ws = opts.xx;
      opts.xx = null;
      opts.isOpen = false;
      failSent('Closed');
      if (ws) {
        try { ws.close(1000); } catch (e) { /* already closing */ }
      }
      status('close');
    };

    opts.addPageId = function (selector) {
      if (!hasDocument()) return null;
      var el = document.querySelector(selector);
      if (!el) return null;
      var div = document.createElement('div');
      div.id = 'ws' + randomId();
      div.style.display = 'none';
      el.appendChild(div);
      return '#' + div.id;
    };

    connect();
    return opts;
  }

  WebShoes.randomId = randomId;

  root.WebShoes = WebShoes;
  if (typeof module !== 'undefined' && module && module.exports) module.exports = WebShoes;
})(typeof globalThis !== 'undefined' ? globalThis : (typeof self !== 'undefined' ? self : this));
