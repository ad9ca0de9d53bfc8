/* pywebio front end: renders the commands of the PyWebIO wire protocol and sends the user's events.
 * Written for this project: no framework, no third-party code, no network besides its own server.
 * Entry points: WebIO.startWebIOClient({protocol: "ws" | "http" | "auto"}) and WebIO.openApp(name, newWindow).
 */
(function (global) {
  "use strict";

  var params = new URLSearchParams(global.location.search);
  var lang = ((global.navigator && navigator.language) || "en").toLowerCase();
  var WORDS = {
    en: { submit: "Submit", reset: "Reset", cancel: "Cancel", close: "Close", fill: "Please fill in this field.",
          int: "Please enter an integer.", num: "Please enter a number.", file: "Please choose a file.",
          disconnected: "Disconnected from the server. Reload the page to start again.",
          lost: "Disconnected from the server." },
    zh: { submit: "提交", reset: "重置", cancel: "取消", close: "关闭", fill: "请填写此字段。", int: "请输入整数。",
          num: "请输入数字。", file: "请选择文件。", disconnected: "与服务器的连接已断开，请刷新页面重新开始。",
          lost: "与服务器的连接已断开。" },
  };
  var T = lang.indexOf("zh") === 0 ? WORDS.zh : WORDS.en;
  var config = {
    debug: params.has("_pywebio_debug"),
    animate: !params.has("_pywebio_disable_animate"),
    pullInterval: parseInt(params.get("_pywebio_http_pull_interval") || "1000", 10) || 1000,
    appName: params.get("app") || "index",
    backend: params.get("pywebio_api") || "",
    autoScrollBottom: false,
    inputAutoFocus: true,
  };

  // ------------------------------------------------------------------------------------------------
  // small DOM helpers

  function h(tag, attrs, children) {
    var el = document.createElement(tag);
    if (attrs) {
      for (var k in attrs) {
        if (!Object.prototype.hasOwnProperty.call(attrs, k)) continue;
        var v = attrs[k];
        if (v === undefined || v === null || v === false) continue;
        if (k === "class") el.className = v;
        else if (k === "text") el.textContent = v;
        else if (k.slice(0, 2) === "on" && typeof v === "function") el.addEventListener(k.slice(2), v);
        else el.setAttribute(k, v === true ? "" : String(v));
      }
    }
    appendAll(el, children);
    return el;
  }

  function appendAll(el, children) {
    if (children === undefined || children === null) return el;
    if (!Array.isArray(children)) children = [children];
    children.forEach(function (c) {
      if (c === null || c === undefined || c === false) return;
      el.appendChild(typeof c === "string" ? document.createTextNode(c) : c);
    });
    return el;
  }

  function escapeHtml(s) {
    return String(s).replace(/[&<>"']/g, function (c) {
      return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c];
    });
  }

  var idCounter = 0;
  function uid(prefix) {
    idCounter += 1;
    return (prefix || "webio") + "-" + idCounter + "-" + Math.random().toString(36).slice(2, 8);
  }

  function log() {
    if (config.debug) console.log.apply(console, ["[pywebio]"].concat([].slice.call(arguments)));
  }

  function warn(msg) {
    // a protocol oddity is not a page error: report it without console.error
    if (global.console && console.warn) console.warn("[pywebio] " + msg);
  }

  function insertAt(container, el, position) {
    var kids = container.children;
    var n = kids.length;
    if (position === undefined || position === null || position === -1 || (position >= 0 && position >= n)) {
      container.appendChild(el);
    } else if (position >= 0) {
      container.insertBefore(el, kids[position]);
    } else {
      var idx = n + position; // insert after child idx
      if (idx < 0) container.insertBefore(el, container.firstChild);
      else if (kids[idx].nextSibling) container.insertBefore(el, kids[idx].nextSibling);
      else container.appendChild(el);
    }
  }

  function safeUrl(url, image) {
    var u = String(url || "").trim();
    var lower = u.toLowerCase().replace(/[\u0000-\u001f\s]/g, "");
    if (/^(https?:|mailto:|tel:|#|\/|\.\/|\.\.\/|\?)/.test(lower)) return u;
    if (image && /^data:image\/(png|jpe?g|gif|webp|bmp|svg\+xml);/.test(lower)) return u;
    if (!/^[a-z][a-z0-9+.-]*:/.test(lower)) return u; // relative
    return "#";
  }

  // ------------------------------------------------------------------------------------------------
  // Markdown: a small, safe renderer (raw HTML is shown as text)

  var Markdown = (function () {
    // like escapeHtml, but character references such as &amp; &copy; &#169; stay as they are
    function escapeText(s) {
      return escapeHtml(s).replace(/&amp;(#\d{1,7}|#x[0-9a-fA-F]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});/g, "&$1;");
    }

    function inline(src) {
      var out = "";
      var i = 0;
      var re = /(\\[\\`*_{}\[\]()#+\-.!~|>])|(`+)([\s\S]*?[^`])\2(?!`)|!\[([^\]]*)\]\(\s*<?([^)\s>]*)>?(?:\s+"([^"]*)")?\s*\)|\[((?:[^\[\]]|\[[^\]]*\])*)\]\(\s*<?([^)\s>]*)>?(?:\s+"([^"]*)")?\s*\)|<((?:https?:\/\/|mailto:)[^>\s]+)>|(?<![A-Za-z0-9])(\*\*|__)(?=\S)([\s\S]*?\S)\11|(?<![A-Za-z0-9])(\*|_)(?=\S)([\s\S]*?\S)\13(?![A-Za-z0-9])|~~(?=\S)([\s\S]*?\S)~~|( {2,}|\\)\n|(https?:\/\/[^\s<]*[^\s<.,;:!?)\]'"])/g;
      var m;
      while ((m = re.exec(src)) !== null) {
        out += escapeText(src.slice(i, m.index));
        i = re.lastIndex;
        if (m[1]) out += escapeHtml(m[1].slice(1));
        else if (m[2]) out += "<code>" + escapeHtml(m[3].replace(/^ (.*) $/, "$1")) + "</code>";
        else if (m[5] !== undefined && m[0].charAt(0) === "!") {
          out += '<img src="' + escapeHtml(safeUrl(m[5], true)) + '" alt="' + escapeHtml(m[4]) + '"' +
            (m[6] ? ' title="' + escapeHtml(m[6]) + '"' : "") + ">";
        } else if (m[7] !== undefined) {
          out += '<a href="' + escapeHtml(safeUrl(m[8])) + '"' + (m[9] ? ' title="' + escapeHtml(m[9]) + '"' : "") +
            ">" + inline(m[7]) + "</a>";
        } else if (m[10]) out += '<a href="' + escapeHtml(safeUrl(m[10])) + '">' + escapeHtml(m[10]) + "</a>";
        else if (m[11]) out += "<strong>" + inline(m[12]) + "</strong>";
        else if (m[13]) out += "<em>" + inline(m[14]) + "</em>";
        else if (m[15] !== undefined) out += "<del>" + inline(m[15]) + "</del>";
        else if (m[16]) out += "<br>\n";
        else if (m[17]) out += '<a href="' + escapeHtml(safeUrl(m[17])) + '">' + escapeHtml(m[17]) + "</a>";
        else out += escapeHtml(m[0]);
      }
      out += escapeText(src.slice(i));
      return breaks ? out.replace(/(<br>)?\n/g, "<br>\n") : out;
    }

    var breaks = false;

    /* a small highlighter for the common languages of put_code(); everything is escaped */
    var KEYWORDS = {
      python: "False None True and as assert async await break class continue def del elif else except finally " +
        "for from global if import in is lambda nonlocal not or pass raise return try while with yield match case",
      javascript: "async await break case catch class const continue default delete do else export extends false " +
        "finally for function if import in instanceof let new null of return super switch this throw true try " +
        "typeof undefined var void while yield",
      bash: "if then else elif fi for while do done case esac function in export local return echo",
      sql: "select from where and or not insert into values update set delete create table drop join left right " +
        "inner outer on group by order having limit as distinct null is like in",
    };
    var ALIASES = { py: "python", python3: "python", js: "javascript", ts: "javascript", typescript: "javascript",
                    json: "javascript", sh: "bash", shell: "bash", console: "bash", zsh: "bash" };
    var COMMENTS = { python: /#[^\n]*/, bash: /#[^\n]*/, javascript: /\/\/[^\n]*|\/\*[\s\S]*?\*\//, sql: /--[^\n]*/ };
    var STRINGS = /"""[\s\S]*?"""|'''[\s\S]*?'''|"(?:\\.|[^"\\\n])*"|'(?:\\.|[^'\\\n])*'|`(?:\\.|[^`\\])*`/;
    function highlight(code, lang) {
      var name = ALIASES[(lang || "").toLowerCase()] || (lang || "").toLowerCase();
      var words = KEYWORDS[name];
      if (!words) return escapeHtml(code);
      var kw = new RegExp("^(?:" + words.split(" ").join("|") + ")$", name === "sql" ? "i" : "");
      var re = new RegExp("(" + COMMENTS[name].source + ")|(" + STRINGS.source + ")|(\\b\\d+(?:\\.\\d+)?\\b)|([A-Za-z_$][\\w$]*)", "g");
      var out = "";
      var last = 0;
      var m;
      while ((m = re.exec(code)) !== null) {
        out += escapeHtml(code.slice(last, m.index));
        last = re.lastIndex;
        var cls = m[1] ? "c" : m[2] ? "s" : m[3] ? "n" : kw.test(m[4]) ? "k" : "";
        out += cls ? '<span class="tok-' + cls + '">' + escapeHtml(m[0]) + "</span>" : escapeHtml(m[0]);
      }
      return out + escapeHtml(code.slice(last));
    }

    var RE = {
      fence: /^ {0,3}(`{3,}|~{3,})\s*([^`\s]*)[^`]*$/,
      heading: /^ {0,3}(#{1,6})(?:\s+(.*?))?(?:\s+#+\s*)?$/,
      hr: /^ {0,3}([-*_])(?:\s*\1){2,}\s*$/,
      quote: /^ {0,3}> ?(.*)$/,
      item: /^( {0,3})([-*+]|\d{1,9}[.)])(\s+|$)(.*)$/,
      tableSep: /^\s*\|?\s*:?-+:?\s*(\|\s*:?-+:?\s*)*\|?\s*$/,
      blank: /^\s*$/,
      indentCode: /^( {4}|\t)(.*)$/,
      setext: /^ {0,3}(=+|-+)\s*$/,
    };

    function splitRow(line) {
      var s = line.trim();
      if (s.charAt(0) === "|") s = s.slice(1);
      if (s.charAt(s.length - 1) === "|" && s.charAt(s.length - 2) !== "\\") s = s.slice(0, -1);
      var cells = [];
      var cur = "";
      for (var i = 0; i < s.length; i++) {
        var c = s.charAt(i);
        if (c === "\\" && s.charAt(i + 1) === "|") { cur += "|"; i++; }
        else if (c === "|") { cells.push(cur.trim()); cur = ""; }
        else cur += c;
      }
      cells.push(cur.trim());
      return cells;
    }

    function startsBlock(line) {
      return RE.fence.test(line) || RE.heading.test(line) || RE.hr.test(line) || RE.quote.test(line) || RE.item.test(line);
    }

    function blocks(lines) {
      var out = [];
      var i = 0;
      while (i < lines.length) {
        var line = lines[i];
        var m;
        if (RE.blank.test(line)) { i++; continue; }
        if ((m = RE.fence.exec(line))) {
          var fence = m[1];
          var lang = m[2];
          var body = [];
          i++;
          while (i < lines.length && !(lines[i].trim().indexOf(fence) === 0 && /^[`~]+\s*$/.test(lines[i].trim()) &&
                 lines[i].trim().length >= fence.length)) {
            body.push(lines[i]);
            i++;
          }
          i++;
          out.push("<pre><code" + (lang ? ' class="language-' + escapeHtml(lang) + '"' : "") + ">" +
            highlight(body.join("\n"), lang) + "</code></pre>");
          continue;
        }
        if ((m = RE.heading.exec(line))) {
          var lvl = m[1].length;
          out.push("<h" + lvl + ">" + inline(m[2] || "") + "</h" + lvl + ">");
          i++;
          continue;
        }
        if (RE.hr.test(line)) { out.push("<hr>"); i++; continue; }
        if (RE.indentCode.test(line)) {
          var code = [];
          while (i < lines.length && (RE.indentCode.test(lines[i]) || RE.blank.test(lines[i]))) {
            code.push(lines[i].replace(/^( {4}|\t)/, ""));
            i++;
          }
          while (code.length && RE.blank.test(code[code.length - 1])) code.pop();
          out.push("<pre><code>" + escapeHtml(code.join("\n")) + "</code></pre>");
          continue;
        }
        if (RE.quote.test(line)) {
          var q = [];
          while (i < lines.length && !RE.blank.test(lines[i])) {
            var qm = RE.quote.exec(lines[i]);
            q.push(qm ? qm[1] : lines[i]);
            i++;
          }
          out.push("<blockquote>" + blocks(q) + "</blockquote>");
          continue;
        }
        if ((m = RE.item.exec(line))) {
          i = list(lines, i, out);
          continue;
        }
        if (line.indexOf("|") >= 0 && i + 1 < lines.length && RE.tableSep.test(lines[i + 1]) &&
            lines[i + 1].indexOf("-") >= 0) {
          var head = splitRow(line);
          var aligns = splitRow(lines[i + 1]).map(function (c) {
            var l = c.charAt(0) === ":", r = c.charAt(c.length - 1) === ":";
            return l && r ? "center" : r ? "right" : l ? "left" : "";
          });
          i += 2;
          var rows = [];
          while (i < lines.length && !RE.blank.test(lines[i]) && lines[i].indexOf("|") >= 0) {
            rows.push(splitRow(lines[i]));
            i++;
          }
          var cell = function (tag, text, k) {
            return "<" + tag + (aligns[k] ? ' style="text-align:' + aligns[k] + '"' : "") + ">" + inline(text || "") + "</" + tag + ">";
          };
          out.push("<table><thead><tr>" + head.map(function (c, k) { return cell("th", c, k); }).join("") +
            "</tr></thead><tbody>" + rows.map(function (r) {
              return "<tr>" + head.map(function (_, k) { return cell("td", r[k], k); }).join("") + "</tr>";
            }).join("") + "</tbody></table>");
          continue;
        }
        var para = [line];
        i++;
        while (i < lines.length && !RE.blank.test(lines[i]) && !startsBlock(lines[i])) {
          if (RE.setext.test(lines[i])) break;
          para.push(lines[i]);
          i++;
        }
        if (i < lines.length && RE.setext.test(lines[i]) && !RE.blank.test(lines[i])) {
          var tag = lines[i].trim().charAt(0) === "=" ? "h1" : "h2";
          out.push("<" + tag + ">" + inline(para.join("\n").trim()) + "</" + tag + ">");
          i++;
          continue;
        }
        out.push("<p>" + inline(para.join("\n").trim()) + "</p>");
      }
      return out.join("\n");
    }

    function list(lines, i, out) {
      var first = RE.item.exec(lines[i]);
      var ordered = /\d/.test(first[2]);
      var start = ordered ? parseInt(first[2], 10) : 1;
      var items = [];
      var loose = false;
      while (i < lines.length) {
        var m = RE.item.exec(lines[i]);
        if (!m || /\d/.test(m[2]) !== ordered) break;
        var indent = m[1].length + m[2].length + Math.max(1, Math.min(m[3].length, 4));
        var body = [m[4]];
        i++;
        var sawBlank = false;
        while (i < lines.length) {
          var l = lines[i];
          if (RE.blank.test(l)) { sawBlank = true; body.push(""); i++; continue; }
          var lead = l.match(/^ */)[0].length;
          if (lead >= indent || (lead >= 2 && RE.item.test(l.slice(Math.min(lead, indent))))) {
            if (sawBlank) loose = true;
            body.push(l.slice(Math.min(lead, indent)));
            sawBlank = false;
            i++;
            continue;
          }
          if (!sawBlank && !startsBlock(l)) { body.push(l); i++; continue; }
          break;
        }
        while (body.length && body[body.length - 1] === "") body.pop();
        items.push(body);
        var nextItem = i < lines.length ? RE.item.exec(lines[i]) : null;
        if (sawBlank && nextItem && /\d/.test(nextItem[2]) === ordered) loose = true;
      }
      var html = items.map(function (b) {
        var inner = blocks(b);
        var task = "";
        if (!loose) inner = inner.replace(/^<p>([\s\S]*?)<\/p>/, "$1");
        var tm = /^\[([ xX])\] /.exec(inner);
        if (tm) {
          task = '<input type="checkbox" disabled' + (tm[1] !== " " ? " checked" : "") + "> ";
          inner = inner.slice(4);
        }
        return "<li>" + task + inner + "</li>";
      }).join("\n");
      out.push(ordered ? "<ol" + (start !== 1 ? ' start="' + start + '"' : "") + ">" + html + "</ol>" : "<ul>" + html + "</ul>");
      return i;
    }

    return {
      render: function (src, options) {
        breaks = !!(options && options.breaks);
        return blocks(String(src || "").replace(/\r\n?/g, "\n").replace(/\t/g, "    ").split("\n"));
      },
      inline: inline,
    };
  })();

  // ------------------------------------------------------------------------------------------------
  // Mustache subset (put_widget): {{var}}, {{{var}}}, {{&var}}, {{#sec}}, {{^sec}}, {{.}}, lambdas

  var Mustache = (function () {
    function lookup(stack, name) {
      if (name === ".") return stack[stack.length - 1];
      var parts = name.split(".");
      for (var i = stack.length - 1; i >= 0; i--) {
        var ctx = stack[i];
        if (ctx !== null && typeof ctx === "object" && parts[0] in ctx) {
          var v = ctx;
          for (var k = 0; k < parts.length; k++) v = v === null || v === undefined ? undefined : v[parts[k]];
          return typeof v === "function" ? v.call(stack[stack.length - 1]) : v;
        }
      }
      return undefined;
    }

    function parse(tpl) {
      var tokens = [];
      var re = /\{\{(\{)?\s*([#^\/&!]?)\s*([^}]*?)\s*\}?\}\}/g;
      var last = 0;
      var m;
      var root = { children: [] };
      var stack = [root];
      while ((m = re.exec(tpl)) !== null) {
        if (m.index > last) stack[stack.length - 1].children.push({ t: "text", v: tpl.slice(last, m.index) });
        last = re.lastIndex;
        var kind = m[1] ? "&" : m[2];
        var name = m[3];
        if (kind === "!") continue;
        if (kind === "#" || kind === "^") {
          var node = { t: kind, name: name, children: [], start: re.lastIndex };
          stack[stack.length - 1].children.push(node);
          stack.push(node);
        } else if (kind === "/") {
          var open = stack.pop();
          if (open) open.raw = tpl.slice(open.start, m.index);
        } else {
          stack[stack.length - 1].children.push({ t: kind === "&" ? "raw" : "var", name: name });
        }
      }
      if (last < tpl.length) root.children.push({ t: "text", v: tpl.slice(last) });
      tokens = root.children;
      return tokens;
    }

    function render(nodes, stack, hooks) {
      var out = "";
      nodes.forEach(function (n) {
        if (n.t === "text") out += n.v;
        else if (n.t === "var" || n.t === "raw") {
          if (n.name === "pywebio_output_parse") out += hooks.parse(stack[stack.length - 1]);
          else {
            var v = lookup(stack, n.name);
            if (v === undefined || v === null) return;
            if (typeof v === "object" && v.type && hooks) { out += hooks.parse(v); return; }
            out += n.t === "raw" ? String(v) : escapeHtml(v);
          }
        } else if (n.t === "#") {
          if (n.name === "pywebio_output_parse") { out += hooks.parse(stack[stack.length - 1]); return; }
          var val = lookup(stack, n.name);
          if (Array.isArray(val)) {
            val.forEach(function (item) { out += render(n.children, stack.concat([item]), hooks); });
          } else if (val) {
            out += render(n.children, typeof val === "object" ? stack.concat([val]) : stack, hooks);
          }
        } else if (n.t === "^") {
          var v2 = lookup(stack, n.name);
          if (!v2 || (Array.isArray(v2) && v2.length === 0)) out += render(n.children, stack, hooks);
        }
      });
      return out;
    }

    return {
      render: function (tpl, data, hooks) { return render(parse(String(tpl)), [data], hooks); },
    };
  })();

  // ------------------------------------------------------------------------------------------------
  // the session transport and outgoing events

  var Session = {
    transport: null,
    closed: false,
    send: function (event) {
      log("send", event);
      if (Session.closed) {
        showToast({ content: T.disconnected, duration: 3000,
                    position: "center", color: "#e53935" });
        return;
      }
      if (Session.transport) Session.transport.send(event);
    },
    sendBinary: function (buffer) {
      if (Session.closed) return Session.send({});
      if (Session.transport) Session.transport.sendBinary(buffer);
    },
  };

  function sendEvent(name, taskId, data) {
    Session.send({ event: name, task_id: taskId, data: data === undefined ? null : data });
  }

  // ------------------------------------------------------------------------------------------------
  // output widgets

  function contentNode(item) {
    if (item !== null && typeof item === "object" && !Array.isArray(item)) return renderWidget(item);
    var span = h("span", { class: "webio-inline-text" });
    span.textContent = item === null || item === undefined ? "" : String(item);
    return span;
  }

  function contentList(items) {
    if (items === null || items === undefined) return [];
    if (!Array.isArray(items)) items = [items];
    return items.map(contentNode);
  }

  var colorNames = ["primary", "secondary", "success", "danger", "warning", "info", "light", "dark"];

  var Widgets = {
    text: function (spec) {
      var el = h(spec.inline ? "span" : "p", { class: "webio-text" });
      el.textContent = spec.content;
      return el;
    },
    markdown: function (spec) {
      var el = h("div", { class: "webio-markdown" });
      el.innerHTML = Markdown.render(spec.content, spec.options);
      return el;
    },
    html: function (spec) {
      var el = h("div", { class: "webio-html" });
      el.innerHTML = String(spec.content);
      if (spec.sanitize) sanitize(el);
      else runScripts(el);
      if (el.childNodes.length === 1 && el.firstChild.nodeType === 1 &&
          /^(IMG|A|SPAN|B|I|STRONG|EM|CODE)$/.test(el.firstChild.tagName)) {
        el.className = "webio-html webio-html-inline";
      }
      return el;
    },
    buttons: function (spec) {
      var wrap = h("div", { class: "webio-buttons" + (spec.group ? " btn-group" : "") });
      (spec.buttons || []).forEach(function (b) {
        var color = b.color || "primary";
        var cls = "btn" + (spec.link ? " btn-link" : spec.outline ? " btn-outline-" + color : " btn-" + color) +
          (spec.small ? " btn-sm" : "");
        var btn = h("button", { type: "button", class: cls, disabled: !!b.disabled, text: b.label });
        btn.addEventListener("click", function (e) {
          e.stopPropagation();
          sendEvent("callback", spec.callback_id, b.value);
        });
        wrap.appendChild(btn);
      });
      return wrap;
    },
    table: function (spec) {
      var data = spec.data || [];
      var span = spec.span || {};
      var table = h("table", { class: "webio-table" });
      var covered = {};
      data.forEach(function (row, r) {
        var tr = h("tr");
        var col = 0;
        row.forEach(function (cell, c) {
          while (covered[r + "," + col]) col++;
          var sp = span[r + "," + c] || { row: 1, col: 1 };
          var td = h(r === 0 ? "th" : "td", {
            rowspan: sp.row > 1 ? sp.row : null, colspan: sp.col > 1 ? sp.col : null,
          });
          appendAll(td, contentNode(cell));
          for (var dr = 0; dr < (sp.row || 1); dr++)
            for (var dc = 0; dc < (sp.col || 1); dc++) covered[(r + dr) + "," + (col + dc)] = true;
          col += sp.col || 1;
          tr.appendChild(td);
        });
        (r === 0 ? (table.tHead || table.createTHead()) : (table.tBodies[0] || table.appendChild(h("tbody")))).appendChild(tr);
      });
      return h("div", { class: "webio-table-wrap" }, table);
    },
    scope: function (spec) {
      return h("div", { id: spec.dom_id, class: "webio-scope" }, contentList(spec.contents));
    },
    scrollable: function (spec) {
      var body = h("div", { class: "webio-scrollable-body" }, contentList(spec.contents));
      var el = h("div", { class: "webio-scrollable" + (spec.border ? " bordered" : "") }, body);
      var px = function (v) { return typeof v === "number" ? v + "px" : v; };
      if (spec.min_height) el.style.minHeight = px(spec.min_height);
      if (spec.max_height) el.style.maxHeight = px(spec.max_height);
      if (spec.keep_bottom) {
        var stick = true;
        el.addEventListener("scroll", function () { stick = el.scrollTop + el.clientHeight >= el.scrollHeight - 8; });
        new MutationObserver(function () { if (stick) el.scrollTop = el.scrollHeight; })
          .observe(body, { childList: true, subtree: true });
        requestAnimationFrame(function () { el.scrollTop = el.scrollHeight; });
      }
      return el;
    },
    tabs: function (spec) {
      var name = uid("tabs");
      var bar = h("div", { class: "webio-tabs-bar", role: "tablist" });
      var panels = h("div", { class: "webio-tabs-panels" });
      var el = h("div", { class: "webio-tabs" }, [bar, panels]);
      (spec.tabs || []).forEach(function (tab, i) {
        var panel = h("div", { class: "webio-tab-panel", role: "tabpanel", id: name + "-p" + i }, contentList(tab.content));
        var btn = h("button", { type: "button", class: "webio-tab", role: "tab", "aria-controls": name + "-p" + i,
                                text: tab.title });
        var select = function () {
          [].forEach.call(bar.children, function (b) { b.classList.remove("active"); b.setAttribute("aria-selected", "false"); });
          [].forEach.call(panels.children, function (p) { p.hidden = true; });
          btn.classList.add("active");
          btn.setAttribute("aria-selected", "true");
          panel.hidden = false;
        };
        btn.addEventListener("click", select);
        bar.appendChild(btn);
        panels.appendChild(panel);
        if (i === 0) select();
        else { panel.hidden = true; btn.setAttribute("aria-selected", "false"); }
      });
      return el;
    },
    custom_widget: function (spec) {
      var holders = [];
      var html = Mustache.render(spec.template, spec.data || {}, {
        parse: function (item) {
          holders.push(item);
          return '<span data-webio-holder="' + (holders.length - 1) + '"></span>';
        },
      });
      var el = h("div", { class: "webio-custom" });
      el.innerHTML = html;
      [].slice.call(el.querySelectorAll("[data-webio-holder]")).forEach(function (ph) {
        var item = holders[parseInt(ph.getAttribute("data-webio-holder"), 10)];
        ph.replaceWith(contentNode(item));
      });
      runScripts(el);
      if (el.childElementCount === 1 && el.firstChild === el.firstElementChild) return el.firstElementChild;
      return el;
    },
    row: layout,
    column: layout,
    grid: layout,
    collapse: function (spec) {
      var body = h("div", { class: "webio-collapse-body" }, contentList(spec.contents));
      var summary = h("summary", { class: "webio-collapse-title", text: spec.title });
      return h("details", { class: "webio-collapse", open: !!spec.open }, [summary, body]);
    },
    alert: function (spec) {
      var color = colorNames.indexOf(spec.color) >= 0 ? spec.color : "info";
      var body = h("div", { class: "webio-alert-body" }, contentList(spec.contents));
      var el = h("div", { class: "webio-alert alert-" + color, role: color === "danger" ? "alert" : "status" }, body);
      if (spec.closable) {
        el.appendChild(h("button", { type: "button", class: "webio-close", "aria-label": T.close, text: "\u00d7",
                                     onclick: function () { el.remove(); } }));
      }
      return el;
    },
    progressbar: function (spec) {
      var bar = h("div", { class: "webio-progress-bar", id: "webio-progressbar-" + spec.name, role: "progressbar",
                           "aria-valuemin": "0", "aria-valuemax": "100" });
      var el = h("div", { class: "webio-progress", "data-auto-close": spec.auto_close ? "1" : "" }, bar);
      setProgress(el, bar, spec.value || 0, spec.label);
      return el;
    },
    loading: function (spec) {
      var color = colorNames.indexOf(spec.color) >= 0 ? spec.color : "dark";
      return h("div", { class: "webio-loading webio-loading-" + (spec.shape === "grow" ? "grow" : "border") +
                        " text-" + color, role: "status" }, h("span", { class: "sr-only", text: "Loading..." }));
    },
    pin: function (spec) {
      return Pins.render(spec.input || {});
    },
    file: function (spec) {
      var a = h("button", { type: "button", class: "btn btn-link", text: spec.name });
      a.addEventListener("click", function () { download(spec.name, spec.content); });
      return h("div", { class: "webio-buttons" }, a);
    },
    datatable: function () {
      return h("div", { class: "webio-alert alert-warning", text: "put_datatable() is not supported by this front end." });
    },
  };

  function layout(spec) {
    var el = h("div", { class: "webio-layout webio-" + spec.type });
    el.setAttribute("style", spec.css || "");
    (spec.contents || []).forEach(function (item, i) {
      var cell = h("div", { class: "webio-layout-item" }, contentNode(item));
      var css = (spec.item_css || [])[i];
      if (css) cell.setAttribute("style", css);
      el.appendChild(cell);
    });
    return el;
  }

  function setProgress(wrap, bar, value, label) {
    var pct = Math.max(0, Math.min(100, Math.round(Number(value) * 1000) / 10));
    bar.style.width = pct + "%";
    bar.setAttribute("aria-valuenow", String(pct));
    bar.textContent = label === null || label === undefined ? pct + "%" : String(label);
    if (pct >= 100 && wrap.getAttribute("data-auto-close")) wrap.remove();
  }

  /* put_html(..., sanitize=True): drop active content, event handlers and script URLs */
  var UNSAFE_TAGS = /^(SCRIPT|STYLE|IFRAME|OBJECT|EMBED|LINK|META|BASE|FORM|FRAME|FRAMESET|TEMPLATE)$/;
  function sanitize(root) {
    [].slice.call(root.querySelectorAll("*")).forEach(function (node) {
      if (UNSAFE_TAGS.test(node.tagName)) { node.remove(); return; }
      [].slice.call(node.attributes).forEach(function (a) {
        var name = a.name.toLowerCase();
        if (name.indexOf("on") === 0 || name === "srcdoc" ||
            ((name === "href" || name === "src" || name === "xlink:href" || name === "action" || name === "formaction") &&
             safeUrl(a.value, name === "src") === "#")) node.removeAttribute(a.name);
      });
    });
    return root;
  }

  function runScripts(el) {
    // scripts in put_html() run, as they do with the original front end
    [].slice.call(el.querySelectorAll("script")).forEach(function (old) {
      var s = document.createElement("script");
      [].forEach.call(old.attributes, function (a) { s.setAttribute(a.name, a.value); });
      s.text = old.text;
      old.replaceWith(s);
    });
  }

  function renderWidget(spec) {
    var make = Widgets[spec.type];
    var el;
    if (!make) {
      warn("unknown widget type " + spec.type);
      el = h("div", { class: "webio-unknown" });
    } else {
      el = make(spec);
    }
    if (spec.style) el.setAttribute("style", (el.getAttribute("style") || "") + ";" + spec.style);
    if (spec.click_callback_id) {
      el.classList.add("webio-clickable");
      el.addEventListener("click", function () { sendEvent("callback", spec.click_callback_id, null); });
    }
    if (spec.container_dom_id) {
      var target = spec.container_selector ? el.querySelector(spec.container_selector) : el;
      (target || el).id = spec.container_dom_id;
    }
    return el;
  }

  function queryScope(selector) {
    try {
      return document.querySelector(selector);
    } catch (e) {
      warn("bad selector " + selector);
      return null;
    }
  }

  function doOutput(spec) {
    var container = queryScope(spec.scope || "#pywebio-scope-ROOT");
    if (!container) {
      warn("output scope not found: " + spec.scope);
      return;
    }
    var el = renderWidget(spec);
    if (config.animate) el.classList.add("webio-appear");
    insertAt(container, el, spec.position);
    if (config.autoScrollBottom) global.scrollTo(0, document.body.scrollHeight);
  }

  function doOutputCtl(spec) {
    if (spec.set_scope !== undefined) {
      var container = queryScope(spec.container || "#pywebio-scope-ROOT");
      var existing = document.getElementById(spec.set_scope);
      if (existing) {
        if (spec.if_exist === "remove") existing.remove();
        else if (spec.if_exist === "clear") { existing.innerHTML = ""; return; }
        else if (spec.if_exist === "blank") {
          existing.style.minHeight = existing.offsetHeight + "px";
          existing.innerHTML = "";
          return;
        } else return;
      }
      if (container) insertAt(container, h("div", { id: spec.set_scope, class: "webio-scope" }), spec.position);
      else warn("container scope not found: " + spec.container);
    }
    if (spec.loose !== undefined) {
      var l = queryScope(spec.loose);
      if (l) l.style.minHeight = "";
    }
    if (spec.clear !== undefined) {
      var c = queryScope(spec.clear);
      if (c) c.innerHTML = "";
    }
    if (spec.clear_before !== undefined) {
      var b = queryScope(spec.clear_before);
      while (b && b.previousElementSibling) b.previousElementSibling.remove();
    }
    if (spec.clear_after !== undefined) {
      var a = queryScope(spec.clear_after);
      while (a && a.nextElementSibling) a.nextElementSibling.remove();
    }
    if (spec.clear_range !== undefined) {
      var from = queryScope(spec.clear_range[0]);
      var to = queryScope(spec.clear_range[1]);
      if (from && to) {
        var n = from.nextElementSibling;
        while (n && n !== to) { var next = n.nextElementSibling; n.remove(); n = next; }
      }
    }
    if (spec.scroll_to !== undefined) {
      var s = queryScope(spec.scroll_to);
      if (s) s.scrollIntoView({ behavior: "smooth", block: { top: "start", middle: "center", bottom: "end" }[spec.position] || "start" });
    }
    if (spec.remove !== undefined) {
      var r = queryScope(spec.remove);
      if (r && r.id !== "pywebio-scope-ROOT") r.remove();
    }
  }

  // ------------------------------------------------------------------------------------------------
  // input items (forms and pins share them)

  var TEXT_TYPES = ["text", "password", "url", "date", "time", "color", "datetime-local", "number", "float", "email", "search", "tel"];
  var SKIP_ATTRS = ["type", "name", "label", "value", "placeholder", "required", "readonly", "help_text", "auto_focus",
    "onchange", "onblur", "datalist", "action", "options", "multiple", "native", "inline", "buttons", "accept",
    "max_size", "max_total_size", "min_value", "max_value", "step", "float", "rows", "code",
    "invalid_feedback", "valid_feedback", "valid_status", "disabled"];

  function encodeValue(v) { return JSON.stringify(v === undefined ? null : v); }
  function decodeValue(s) { try { return JSON.parse(s); } catch (e) { return s; } }

  /* Build one input item. Returns {el, name, spec, get(), set(v), focus(), onEvent(fn)} */
  function buildItem(spec, ctx) {
    var type = spec.type;
    var id = uid("webio-input");
    var wrap = h("div", { class: "webio-input-item webio-input-" + type, "data-name": spec.name });
    var label = h(type === "checkbox" || type === "radio" || type === "actions" ? "div" : "label",
                  { class: "webio-label", text: spec.label || "" });
    if (label.tagName === "LABEL") label.setAttribute("for", id);
    else label.id = id + "-label";
    if (!spec.label) label.hidden = true;
    wrap.appendChild(label);
    var item = { el: wrap, name: spec.name, spec: spec, type: type, listeners: [], labelEl: label };
    var fire = function (kind) { item.listeners.forEach(function (fn) { fn(kind); }); };
    var control;

    if (TEXT_TYPES.indexOf(type) >= 0) {
      var htmlType = type === "float" ? "text" : type;
      control = h("input", { id: id, type: htmlType, class: "form-control", name: spec.name,
                             inputmode: type === "float" ? "decimal" : null, step: type === "number" ? "1" : null });
      if (spec.datalist) {
        var dl = h("datalist", { id: id + "-list" });
        spec.datalist.forEach(function (v) { dl.appendChild(h("option", { value: v })); });
        control.setAttribute("list", id + "-list");
        wrap.appendChild(dl);
      }
      if (spec.value !== undefined && spec.value !== null) control.defaultValue = control.value = String(spec.value);
      var box = control;
      if (spec.action) {
        var act = h("button", { type: "button", class: "btn btn-outline-secondary", text: spec.action.label });
        act.addEventListener("click", function () { sendEvent("callback", spec.action.callback_id, null); });
        box = h("div", { class: "webio-input-group" }, [control, act]);
      }
      wrap.appendChild(box);
      item.get = function () {
        var v = control.value;
        if (type === "number") {
          if (v === "") return null;
          var n = Number(v);
          return Number.isInteger(n) ? n : NaN;
        }
        if (type === "float") {
          if (v.trim() === "") return null;
          var f = Number(v);
          return isNaN(f) ? NaN : f;
        }
        return v;
      };
      item.set = function (v) { control.value = v === null || v === undefined ? "" : String(v); };
      control.addEventListener("input", function () { fire("change"); });
      control.addEventListener("blur", function () { fire("blur"); });
    } else if (type === "textarea") {
      control = h("textarea", { id: id, class: "form-control" + (spec.code ? " webio-code" : ""), name: spec.name,
                                rows: spec.rows || 6, maxlength: spec.maxlength, minlength: spec.minlength,
                                spellcheck: spec.code ? "false" : null });
      if (spec.value !== undefined && spec.value !== null) control.defaultValue = control.value = String(spec.value);
      if (spec.code) {
        control.addEventListener("keydown", function (e) {
          if (e.key === "Tab" && !e.shiftKey) {
            e.preventDefault();
            var s = control.selectionStart;
            control.setRangeText("    ", s, control.selectionEnd, "end");
            fire("change");
          }
        });
      }
      wrap.appendChild(control);
      item.get = function () { return control.value; };
      item.set = function (v) { control.value = v === null || v === undefined ? "" : String(v); };
      control.addEventListener("input", function () { fire("change"); });
      control.addEventListener("blur", function () { fire("blur"); });
    } else if (type === "select") {
      control = h("select", { id: id, class: "form-control", name: spec.name, multiple: !!spec.multiple });
      var fillSelect = function (options) {
        control.innerHTML = "";
        (options || []).forEach(function (o) {
          var opt = h("option", { value: encodeValue(o.value), disabled: !!o.disabled, text: o.label });
          opt.defaultSelected = opt.selected = !!o.selected;
          control.appendChild(opt);
        });
      };
      fillSelect(spec.options);
      if (spec.value !== undefined && spec.value !== null && !spec.options.some(function (o) { return o.selected; })) {
        setSelect(spec.value);
      }
      wrap.appendChild(control);
      item.options = fillSelect;
      item.get = function () {
        var sel = [].filter.call(control.options, function (o) { return o.selected; })
          .map(function (o) { return decodeValue(o.value); });
        return spec.multiple ? sel : sel.length ? sel[0] : null;
      };
      item.set = setSelect;
      control.addEventListener("change", function () { fire("change"); });
      control.addEventListener("blur", function () { fire("blur"); });
    } else if (type === "checkbox" || type === "radio") {
      control = h("div", { class: "webio-options" + (spec.inline ? " inline" : ""), role: type === "radio" ? "radiogroup" : "group",
                           "aria-labelledby": id + "-label" });
      var fillOptions = function (options) {
        control.innerHTML = "";
        (options || []).forEach(function (o, k) {
          var oid = id + "-" + k;
          var box2 = h("input", { type: type, id: oid, name: spec.name, value: encodeValue(o.value),
                                  disabled: !!o.disabled,
                                  required: type === "radio" && spec.required && k === options.length - 1 });
          box2.defaultChecked = box2.checked = !!o.selected;
          box2.addEventListener("change", function () { fire("change"); });
          control.appendChild(h("div", { class: "webio-option" }, [box2, h("label", { for: oid, text: o.label })]));
        });
      };
      fillOptions(spec.options);
      wrap.appendChild(control);
      item.options = fillOptions;
      var boxes = function () { return [].slice.call(control.querySelectorAll("input")); };
      item.get = function () {
        var vals = boxes().filter(function (b) { return b.checked; }).map(function (b) { return decodeValue(b.value); });
        return type === "checkbox" ? vals : vals.length ? vals[0] : null;
      };
      item.set = function (v) {
        var want = (type === "checkbox" ? (Array.isArray(v) ? v : [v]) : [v]).map(encodeValue);
        boxes().forEach(function (b) { b.checked = want.indexOf(b.value) >= 0; });
      };
      item.target = function (value, attrs) {
        boxes().forEach(function (b) {
          if (b.value === encodeValue(value)) applyDomAttrs(b, attrs);
        });
      };
    } else if (type === "actions") {
      control = h("div", { class: "webio-actions", role: "group", "aria-labelledby": id + "-label" });
      var value = null;
      (spec.buttons || []).forEach(function (b) {
        var color = b.color || (b.type === "cancel" ? "secondary" : b.type === "reset" ? "warning" : "primary");
        var btype = ctx && ctx.pin ? "button" : b.type === "submit" ? "submit" : b.type === "reset" ? "reset" : "button";
        var btn = h("button", { type: btype, class: "btn btn-" + color, name: spec.name, value: encodeValue(b.value),
                                disabled: !!b.disabled, text: b.label });
        btn.addEventListener("click", function (e) {
          if (ctx && ctx.pin) { value = b.value; fire("change"); return; }
          if (b.type === "cancel") { e.preventDefault(); if (ctx && ctx.cancel) ctx.cancel(); }
          else if (b.type === "submit") value = b.value;
        });
        control.appendChild(btn);
      });
      wrap.appendChild(control);
      item.get = function () { return value; };
      item.set = function (v) { value = v; };
      item.target = function (val, attrs) {
        [].forEach.call(control.querySelectorAll("button"), function (b) {
          if (b.value === encodeValue(val)) applyDomAttrs(b, attrs);
        });
      };
    } else if (type === "file") {
      control = h("input", { id: id, type: "file", class: "form-control", name: spec.name, accept: spec.accept,
                             multiple: !!spec.multiple, "aria-describedby": id + "-ph" });
      wrap.appendChild(control);
      if (spec.placeholder) wrap.appendChild(h("small", { class: "webio-help", id: id + "-ph", text: spec.placeholder }));
      item.get = function () { return [].slice.call(control.files || []); };
      item.set = function () { control.value = ""; };
      item.isFile = true;
      control.addEventListener("change", function () { fire("change"); });
    } else if (type === "slider") {
      control = h("input", { id: id, type: "range", class: "form-range", name: spec.name, min: spec.min_value,
                             max: spec.max_value, step: spec.float ? "any" : spec.step });
      if (spec.float && spec.step) control.step = spec.step;
      var out = h("output", { for: id, class: "webio-slider-value" });
      control.defaultValue = control.value = spec.value === undefined || spec.value === null ? "0" : String(spec.value);
      out.textContent = control.value;
      wrap.appendChild(h("div", { class: "webio-slider" }, [control, out]));
      item.get = function () { return spec.float ? parseFloat(control.value) : parseInt(control.value, 10); };
      item.set = function (v) { control.value = String(v); out.textContent = control.value; };
      item.afterReset = function () { out.textContent = control.value; };
      control.addEventListener("input", function () { out.textContent = control.value; fire("change"); });
      control.addEventListener("blur", function () { fire("blur"); });
    } else {
      warn("unknown input type " + type);
      control = h("div");
      item.get = function () { return null; };
      item.set = function () {};
    }
    function setSelect(v) {
      var want = (Array.isArray(v) && spec.multiple ? v : [v]).map(encodeValue);
      [].forEach.call(control.options, function (o) { o.selected = want.indexOf(o.value) >= 0; });
    }

    item.control = control;
    if (spec.placeholder && type !== "file" && "placeholder" in control) control.placeholder = spec.placeholder;
    if (spec.required && (control.tagName === "INPUT" || control.tagName === "SELECT" || control.tagName === "TEXTAREA")) control.required = true;
    if (spec.readonly) {
      if (control.tagName === "SELECT" || type === "slider") control.disabled = true;
      else if ("readOnly" in control) control.readOnly = true;
      else [].forEach.call(control.querySelectorAll("input"), function (i) { i.disabled = true; });
    }
    if (spec.disabled) control.disabled = true;
    // extra HTML attributes given by the app (maxlength=, pattern=, ...)
    Object.keys(spec).forEach(function (k) {
      if (SKIP_ATTRS.indexOf(k) >= 0) return;
      var v = spec[k];
      if (v === null || v === undefined || typeof v === "object") return;
      if (control.tagName === "INPUT" || control.tagName === "TEXTAREA" || control.tagName === "SELECT") {
        try { control.setAttribute(k, v === true ? "" : String(v)); } catch (e) { /* invalid attribute name */ }
      }
    });
    var feedback = h("div", { class: "webio-feedback", id: id + "-fb", "aria-live": "polite" });
    wrap.appendChild(feedback);
    var help = h("small", { class: "webio-help", id: id + "-help", text: spec.help_text || "" });
    if (!spec.help_text) help.hidden = true;
    wrap.appendChild(help);
    if ("setAttribute" in control) control.setAttribute("aria-describedby", (id + "-fb " + id + "-help").trim());
    item.feedback = feedback;
    item.help = help;
    item.focus = function () {
      var f = control.matches && control.matches("input,select,textarea,button") ? control : control.querySelector("input,button");
      if (f) f.focus();
    };
    item.onEvent = function (fn) { item.listeners.push(fn); };
    item.update = function (attrs) { updateItem(item, attrs); };
    return item;
  }

  function applyDomAttrs(el, attrs) {
    Object.keys(attrs || {}).forEach(function (k) {
      var v = attrs[k];
      if (k in el) { try { el[k] = v; } catch (e) { el.setAttribute(k, v); } }
      else if (v === null || v === false) el.removeAttribute(k);
      else el.setAttribute(k, v === true ? "" : String(v));
    });
  }

  function updateItem(item, attrs) {
    var control = item.control;
    Object.keys(attrs || {}).forEach(function (k) {
      var v = attrs[k];
      if (k === "valid_status") {
        item.el.classList.remove("is-valid", "is-invalid");
        if (control.classList) control.classList.remove("is-valid", "is-invalid");
        if (control.setAttribute) control.removeAttribute("aria-invalid");
        if (v === true) { item.el.classList.add("is-valid"); control.classList.add("is-valid"); }
        else if (v === false) {
          item.el.classList.add("is-invalid");
          control.classList.add("is-invalid");
          control.setAttribute("aria-invalid", "true");
        } else item.feedback.textContent = "";
      } else if (k === "invalid_feedback" || k === "valid_feedback") {
        item.feedback.textContent = v || "";
        item.feedback.className = "webio-feedback " + (k === "invalid_feedback" ? "invalid" : "valid");
      } else if (k === "help_text") {
        item.help.textContent = v || "";
        item.help.hidden = !v;
      } else if (k === "label") {
        item.labelEl.textContent = v || "";
        item.labelEl.hidden = !v;
      } else if (k === "value") {
        item.set(v);
      } else if (k === "options") {
        if (item.options) { item.spec.options = v; item.options(v); }
      } else if (k === "datalist") {
        var dl = item.el.querySelector("datalist");
        if (dl) {
          dl.innerHTML = "";
          (v || []).forEach(function (x) { dl.appendChild(h("option", { value: x })); });
        }
      } else if (k === "placeholder") {
        if ("placeholder" in control) control.placeholder = v || "";
      } else if (k === "min_value" || k === "max_value") {
        control.setAttribute(k === "min_value" ? "min" : "max", v);
      } else if (k === "disabled" || k === "readonly" || k === "required") {
        var prop = k === "readonly" ? "readOnly" : k;
        var targets = control.matches && control.matches("input,select,textarea") ? [control] :
          [].slice.call(control.querySelectorAll("input,button"));
        targets.forEach(function (t) { t[prop] = !!v; });
      } else {
        applyDomAttrs(control, (function () { var o = {}; o[k] = v; return o; })());
      }
    });
  }

  // ------------------------------------------------------------------------------------------------
  // forms: one stack per task, only the top form of each task is shown

  var Forms = {
    stacks: {}, // task_id -> [form]
    container: function () {
      return document.getElementById("input-cards") || document.body;
    },
    show: function (taskId, spec) {
      var stack = Forms.stacks[taskId] || (Forms.stacks[taskId] = []);
      if (stack.length) stack[stack.length - 1].el.hidden = true;
      var form = new FormCard(taskId, spec);
      stack.push(form);
      Forms.container().appendChild(form.el);
      Forms.refresh();
      form.el.scrollIntoView({ block: "nearest" });
      if (config.inputAutoFocus && !Popup.current) form.autoFocus();  // never steal focus from a dialog
    },
    top: function (taskId) {
      var stack = Forms.stacks[taskId];
      return stack && stack.length ? stack[stack.length - 1] : null;
    },
    destroy: function (taskId) {
      var stack = Forms.stacks[taskId];
      if (!stack || !stack.length) return;
      stack.pop().el.remove();
      if (stack.length) stack[stack.length - 1].el.hidden = false;
      else delete Forms.stacks[taskId];
      Forms.refresh();
    },
    refresh: function () {
      var ic = document.getElementById("input-container");
      var any = Object.keys(Forms.stacks).length > 0;
      if (ic) ic.classList.toggle("has-forms", any);
      document.body.classList.toggle("webio-has-forms", any);
    },
  };

  function FormCard(taskId, spec) {
    var self = this;
    this.taskId = taskId;
    this.items = {};
    this.order = [];
    var body = h("div", { class: "webio-card-body" });
    var titleId = uid("webio-form-title");
    var form = h("form", { class: "webio-form", novalidate: true, "aria-labelledby": spec.label ? titleId : null });
    this.el = h("div", { class: "webio-card webio-form-card" + (config.animate ? " webio-appear" : "") });
    if (spec.label) this.el.appendChild(h("h2", { class: "webio-card-title", id: titleId, text: spec.label }));
    this.el.appendChild(body);
    body.appendChild(form);
    this.form = form;
    var inputs = spec.inputs || [];
    var lastActions = null;
    inputs.forEach(function (s, idx) {
      var item = buildItem(s, { cancel: function () { self.cancel(); } });
      self.items[s.name] = item;
      self.order.push(item);
      if (spec.label && !s.label && inputs.length === 1) {
        // a single input(): the card title is the field's label
        item.control.setAttribute("aria-labelledby", titleId);
      }
      form.appendChild(item.el);
      if (s.onblur) {
        item.onEvent(function (kind) {
          if (kind !== "blur") return;
          var v = item.get();
          if (TEXT_TYPES.indexOf(item.type) >= 0 && (v === "" || v === null)) return;
          if (item.isFile) return;
          sendEvent("input_event", taskId, { event_name: "blur", name: s.name, value: typedText(item, v) });
        });
      }
      if (s.onchange) {
        item.onEvent(function (kind) {
          if (kind !== "change" || item.isFile) return;
          sendEvent("input_event", taskId, { event_name: "change", name: s.name, value: typedText(item, item.get()) });
        });
      }
      if (s.type === "actions" && idx === inputs.length - 1 &&
          (s.buttons || []).some(function (b) { return (b.type || "submit") === "submit"; })) lastActions = item;
    });
    if (!lastActions) {
      var buttons = h("div", { class: "webio-form-buttons" });
      buttons.appendChild(h("button", { type: "submit", class: "btn btn-primary", text: T.submit }));
      buttons.appendChild(h("button", { type: "reset", class: "btn btn-outline-secondary", text: T.reset }));
      if (spec.cancelable) {
        buttons.appendChild(h("button", { type: "button", class: "btn btn-outline-secondary pywebio_cancel_btn", text: T.cancel,
                                          onclick: function () { self.cancel(); } }));
      }
      form.appendChild(buttons);
    }
    form.addEventListener("submit", function (e) {
      e.preventDefault();
      self.submit(e.submitter);
    });
    form.addEventListener("reset", function () {
      // the browser resets the fields after this event: refresh what mirrors them
      setTimeout(function () {
        self.order.forEach(function (i) { updateItem(i, { valid_status: 0 }); if (i.afterReset) i.afterReset(); });
      });
    });
  }

  function numberSafe(v) { return typeof v === "number" && isNaN(v) ? null : v; }
  // A number field holding text that is not a number sends that text, so the server's
  // validation answers "Please enter a number." instead of validating an empty value.
  function typedText(item, v) { return typeof v === "number" && isNaN(v) ? item.control.value : v; }

  FormCard.prototype.autoFocus = function () {
    var first = this.order.filter(function (i) { return i.spec.auto_focus; })[0];
    if (first) first.focus();
  };

  FormCard.prototype.setBusy = function (busy) {
    [].forEach.call(this.form.querySelectorAll("button"), function (b) {
      if (busy) { b.setAttribute("data-was-disabled", b.disabled ? "1" : ""); b.disabled = true; }
      else if (b.hasAttribute("data-was-disabled")) { b.disabled = b.getAttribute("data-was-disabled") === "1"; b.removeAttribute("data-was-disabled"); }
    });
    this.el.classList.toggle("is-busy", busy);
  };

  FormCard.prototype.cancel = function () {
    this.setBusy(true);
    sendEvent("from_cancel", this.taskId, null);
  };

  FormCard.prototype.submit = function (submitter) {
    var data = {};
    var files = [];
    var ok = true;
    var firstBad = null;
    this.order.forEach(function (item) {
      var s = item.spec;
      updateItem(item, { valid_status: 0 });
      if (item.type === "actions") {
        if (submitter && submitter.name === s.name) item.set(decodeValue(submitter.value));
        data[s.name] = item.get();
        return;
      }
      var v = item.get();
      var bad = null;
      if (item.isFile) {
        var total = 0;
        v.forEach(function (f) {
          total += f.size;
          if (s.max_size && f.size > s.max_size) bad = "File \"" + f.name + "\" is too large (limit " + sizeText(s.max_size) + ").";
        });
        if (!bad && s.max_total_size && total > s.max_total_size) bad = "The files are too large in total (limit " + sizeText(s.max_total_size) + ").";
        if (!bad && s.required && !v.length) bad = T.file;
        files.push({ name: s.name, files: v, multiple: !!s.multiple });
        data[s.name] = s.multiple ? [] : null;
      } else {
        if (typeof v === "number" && isNaN(v)) bad = item.type === "number" ? T.int : T.num;
        else if (s.required && (v === "" || v === null || (Array.isArray(v) && !v.length))) bad = T.fill;
        else if (item.control.checkValidity && !item.control.checkValidity()) bad = item.control.validationMessage;
        data[s.name] = v;
      }
      if (bad) {
        ok = false;
        updateItem(item, { valid_status: false, invalid_feedback: bad });
        if (!firstBad) firstBad = item;
      }
    });
    if (!ok) {
      firstBad.focus();
      return;
    }
    this.setBusy(true);
    if (files.length) sendFiles({ event: "from_submit", task_id: this.taskId, data: data }, files);
    else sendEvent("from_submit", this.taskId, data);
  };

  FormCard.prototype.update = function (spec) {
    var item = this.items[spec.target_name];
    this.setBusy(false);
    if (!item) return;
    if (spec.target_value !== undefined && item.target) item.target(spec.target_value, spec.attributes);
    else updateItem(item, spec.attributes || {});
  };

  function sizeText(n) {
    var units = ["B", "KB", "MB", "GB", "TB"];
    var i = 0;
    while (n >= 1024 && i < units.length - 1) { n /= 1024; i++; }
    return (Math.round(n * 10) / 10) + " " + units[i];
  }

  // binary framing (spec 1.7): [8-byte BE length][segment]...
  function sendFiles(event, fields) {
    var enc = new TextEncoder();
    var parts = [enc.encode(JSON.stringify(event))];
    var reads = [];
    fields.forEach(function (field) {
      field.files.forEach(function (f) {
        reads.push(f.arrayBuffer().then(function (buf) {
          return [enc.encode(JSON.stringify({ filename: f.name, size: f.size, mime_type: f.type || "application/octet-stream",
                                               last_modified: f.lastModified / 1000, input_name: field.name })),
                  new Uint8Array(buf)];
        }));
      });
    });
    return Promise.all(reads).then(function (pairs) {
      pairs.forEach(function (p) { parts.push(p[0], p[1]); });
      var total = parts.reduce(function (n, p) { return n + 8 + p.byteLength; }, 0);
      var out = new Uint8Array(total);
      var view = new DataView(out.buffer);
      var off = 0;
      parts.forEach(function (p) {
        var len = p.byteLength;
        view.setUint32(off, Math.floor(len / 4294967296));
        view.setUint32(off + 4, len >>> 0);
        out.set(p, off + 8);
        off += 8 + len;
      });
      Session.sendBinary(out.buffer);
    });
  }

  // ------------------------------------------------------------------------------------------------
  // pins

  var Pins = {
    listeners: {}, // name -> [callback ids]
    waiters: [], // {names, taskId, timer}
    items: function (name) {
      return [].slice.call(document.querySelectorAll('.webio-pin[data-pin-name="' + cssEscape(name) + '"]'))
        .map(function (el) { return el.webioItem; }).filter(Boolean);
    },
    item: function (name) {
      var all = Pins.items(name);
      return all.length ? all[all.length - 1] : null;
    },
    render: function (spec) {
      var item = buildItem(spec, { pin: true });
      var wrap = h("div", { class: "webio-pin", "data-pin-name": spec.name }, item.el);
      wrap.webioItem = item;
      item.onEvent(function (kind) {
        if (kind !== "change") return;
        Pins.changed(spec.name, item);
      });
      return wrap;
    },
    changed: function (name, item) {
      if (item.isFile) return;
      var value = numberSafe(item.get());
      (Pins.listeners[name] || []).forEach(function (cid) { sendEvent("callback", cid, { value: value }); });
      var keep = [];
      Pins.waiters.forEach(function (w) {
        if (w.names.indexOf(name) >= 0) {
          clearTimeout(w.timer);
          sendEvent("js_yield", w.taskId, { name: name, value: value });
        } else keep.push(w);
      });
      Pins.waiters = keep;
    },
    values: function (taskId, names) {
      var out = {};
      (names || []).forEach(function (n) {
        var item = Pins.item(n);
        if (item && !item.isFile) out[n] = numberSafe(item.get());
      });
      sendEvent("js_yield", taskId, out);
    },
    value: function (taskId, name) {
      var item = Pins.item(name);
      sendEvent("js_yield", taskId, item ? { value: numberSafe(item.get()) } : null);
    },
    update: function (spec) {
      Pins.items(spec.name).forEach(function (item) { updateItem(item, spec.attributes || {}); });
    },
    wait: function (taskId, spec) {
      var w = { names: spec.names || [], taskId: taskId, timer: null };
      if (spec.timeout !== null && spec.timeout !== undefined) {
        w.timer = setTimeout(function () {
          Pins.waiters = Pins.waiters.filter(function (x) { return x !== w; });
          sendEvent("js_yield", taskId, null);
        }, spec.timeout * 1000);
      }
      Pins.waiters = Pins.waiters.filter(function (x) { return x.taskId !== taskId; });
      Pins.waiters.push(w);
    },
    onchange: function (spec) {
      if (spec.clear) delete Pins.listeners[spec.name];
      if (spec.callback_id) {
        (Pins.listeners[spec.name] = Pins.listeners[spec.name] || []).push(spec.callback_id);
        if (spec.init_run) {
          var item = Pins.item(spec.name);
          if (item) sendEvent("callback", spec.callback_id, { value: numberSafe(item.get()) });
        }
      }
    },
  };

  function cssEscape(s) {
    return global.CSS && CSS.escape ? CSS.escape(s) : String(s).replace(/["\\]/g, "\\$&");
  }

  // ------------------------------------------------------------------------------------------------
  // popup, toast, download, scripts, env

  var Popup = {
    current: null,
    open: function (spec) {
      Popup.close();
      Popup.returnFocus = document.activeElement;
      var titleId = uid("webio-popup-title");
      var body = h("div", { class: "webio-modal-body", id: spec.dom_id }, contentList(spec.content));
      var header = h("div", { class: "webio-modal-header" }, h("h2", { class: "webio-modal-title", id: titleId, text: spec.title }));
      if (spec.closable !== false) {
        header.appendChild(h("button", { type: "button", class: "webio-close", "aria-label": T.close, text: "\u00d7",
                                         onclick: Popup.close }));
      }
      var dialog = h("div", { class: "webio-modal-dialog size-" + (spec.size || "normal"), role: "dialog",
                              "aria-modal": "true", "aria-labelledby": titleId }, [header, body]);
      var backdrop = h("div", { class: "webio-modal" + (config.animate ? " webio-appear" : "") }, dialog);
      backdrop.addEventListener("mousedown", function (e) {
        if (e.target === backdrop && spec.implicit_close !== false && spec.closable !== false) Popup.close();
      });
      Popup.keydown = function (e) {
        if (e.key === "Escape" && spec.implicit_close !== false && spec.closable !== false) Popup.close();
      };
      document.addEventListener("keydown", Popup.keydown);
      document.body.appendChild(backdrop);
      document.body.classList.add("webio-modal-open");
      Popup.current = backdrop;
      var focusable = dialog.querySelector("button, input, select, textarea, a[href]");
      (focusable || dialog).focus && (focusable || dialog).focus();
    },
    close: function () {
      if (!Popup.current) return;
      Popup.current.remove();
      Popup.current = null;
      document.removeEventListener("keydown", Popup.keydown);
      document.body.classList.remove("webio-modal-open");
      var back = Popup.returnFocus;
      Popup.returnFocus = null;
      if (back && back.isConnected && back.focus) back.focus();
    },
  };

  function showToast(spec) {
    var pos = ["left", "center", "right"].indexOf(spec.position) >= 0 ? spec.position : "center";
    var box = document.getElementById("webio-toasts-" + pos);
    if (!box) {
      box = h("div", { id: "webio-toasts-" + pos, class: "webio-toasts webio-toasts-" + pos, "aria-live": "polite" });
      document.body.appendChild(box);
    }
    var el = h("div", { class: "webio-toast" + (spec.callback_id ? " webio-clickable" : ""), role: "status" });
    el.appendChild(h("span", { class: "webio-toast-text", text: spec.content }));
    if (spec.color) el.style.background = spec.color;
    var close = function () {
      el.classList.add("leaving");
      setTimeout(function () { el.remove(); }, 200);
    };
    if (spec.callback_id) {
      el.addEventListener("click", function () { sendEvent("callback", spec.callback_id, null); close(); });
    }
    if (!spec.duration) {
      el.appendChild(h("button", { type: "button", class: "webio-close", "aria-label": T.close, text: "\u00d7",
                                   onclick: function (e) { e.stopPropagation(); close(); } }));
    } else {
      setTimeout(close, spec.duration);
    }
    box.appendChild(el);
  }

  function download(name, b64) {
    var bin = atob(b64 || "");
    var bytes = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
    var url = URL.createObjectURL(new Blob([bytes], { type: "application/octet-stream" }));
    var a = h("a", { href: url, download: name, style: "display:none" });
    document.body.appendChild(a);
    a.click();
    setTimeout(function () { URL.revokeObjectURL(url); a.remove(); }, 1000);
  }

  function runScript(taskId, spec) {
    var args = spec.args || {};
    var names = Object.keys(args);
    var values = names.map(function (n) { return args[n]; });
    var result;
    try {
      if (spec.eval) {
        var fn = new (Function.prototype.bind.apply(Function, [null, "__pywebio_code__"].concat(names, ["return eval(__pywebio_code__);"])))();
        result = fn.apply(global, [spec.code].concat(values));
      } else {
        var fn2 = new (Function.prototype.bind.apply(Function, [null].concat(names, [spec.code])))();
        fn2.apply(global, values);
        return;
      }
    } catch (e) {
      if (!spec.eval) throw e;
      warn("eval_js failed: " + e);
      sendEvent("js_yield", taskId, null);
      return;
    }
    Promise.resolve(result).then(function (v) {
      sendEvent("js_yield", taskId, v === undefined ? null : v);
    }, function (e) {
      warn("eval_js promise rejected: " + e);
      sendEvent("js_yield", taskId, null);
    });
  }

  function setEnv(spec) {
    if (spec.title !== undefined) document.title = spec.title;
    if (spec.output_animation !== undefined) config.animate = !!spec.output_animation;
    if (spec.auto_scroll_bottom !== undefined) config.autoScrollBottom = !!spec.auto_scroll_bottom;
    if (spec.http_pull_interval !== undefined) {
      config.pullInterval = spec.http_pull_interval;
      if (Session.transport && Session.transport.reschedule) Session.transport.reschedule();
    }
    if (spec.input_auto_focus !== undefined) config.inputAutoFocus = !!spec.input_auto_focus;
    if (spec.input_panel_fixed !== undefined) document.body.classList.toggle("webio-input-fixed", !!spec.input_panel_fixed);
    if (spec.output_max_width !== undefined) {
      var c = document.querySelector(".pywebio") || document.getElementById("output-container");
      if (c) c.style.maxWidth = spec.output_max_width;
    }
  }

  function markClosed() {
    Session.closed = true;
    document.body.classList.add("webio-closed");
    // a grey favicon tells a user with many tabs that this session has ended
    var grey = "data:image/svg+xml," + encodeURIComponent(
      '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16"><circle cx="8" cy="8" r="7" fill="#9aa4b2"/></svg>');
    var icons = document.querySelectorAll('link[rel~="icon"]');
    [].forEach.call(icons, function (l) { l.href = l.getAttribute("data-closed-href") || grey; });
  }

  // ------------------------------------------------------------------------------------------------
  // command dispatch

  var firstMessage = true;

  function handleCommand(msg) {
    log("recv", msg);
    if (firstMessage) {
      firstMessage = false;
      var loading = document.getElementById("pywebio-loading");
      if (loading) loading.remove();
    }
    var spec = msg.spec;
    var task = msg.task_id;
    switch (msg.command) {
      case "output": doOutput(spec); break;
      case "output_ctl": doOutputCtl(spec); break;
      case "input":
      case "input_group": Forms.show(task, spec); break;
      case "update_input": {
        var f = Forms.top(task);
        if (f) f.update(spec);
        break;
      }
      case "destroy_form": Forms.destroy(task); break;
      case "popup": Popup.open(spec); break;
      case "close_popup": Popup.close(); break;
      case "toast": showToast(spec); break;
      case "run_script": runScript(task, spec); break;
      case "download": download(spec.name, spec.content); break;
      case "set_env": setEnv(spec); break;
      case "pin_value": Pins.value(task, spec.name); break;
      case "pin_values": Pins.values(task, spec.names); break;
      case "pin_update": Pins.update(spec); break;
      case "pin_wait": Pins.wait(task, spec); break;
      case "pin_onchange": Pins.onchange(spec); break;
      case "progressbar_update": {
        var bar = document.getElementById("webio-progressbar-" + spec.name);
        if (bar) setProgress(bar.parentNode, bar, spec.value, spec.label);
        break;
      }
      case "close_session": markClosed(); if (Session.transport) Session.transport.closedByServer(); break;
      case "set_session_id": if (Session.transport && Session.transport.setSessionId) Session.transport.setSessionId(spec); break;
      default: warn("unknown command " + msg.command);
    }
  }

  function safeHandle(msg) {
    try {
      handleCommand(msg);
    } catch (e) {
      // a failing run_js() is the app's error: report it like the browser would
      if (msg && msg.command === "run_script") setTimeout(function () { throw e; });
      else warn("failed to handle " + (msg && msg.command) + ": " + (e && e.stack || e));
    }
  }

  // ------------------------------------------------------------------------------------------------
  // transports

  function backendUrl() {
    var base = config.backend ? new URL(config.backend, global.location.href) : new URL(global.location.href);
    base.hash = "";
    return base;
  }

  function WebSocketTransport() {
    this.sessionId = "NEW";
    this.queue = [];
    this.ws = null;
    this.lastAttempt = 0;
    this.serverClosed = false;
    this.connect();
  }

  WebSocketTransport.prototype.url = function () {
    var u = backendUrl();
    u.protocol = u.protocol === "https:" ? "wss:" : "ws:";
    u.search = "?app=" + encodeURIComponent(config.appName) + "&session=" + encodeURIComponent(this.sessionId);
    return u.toString();
  };

  WebSocketTransport.prototype.connect = function () {
    var self = this;
    this.lastAttempt = Date.now();
    var ws = new WebSocket(this.url());
    ws.binaryType = "arraybuffer";
    this.ws = ws;
    ws.onopen = function () {
      log("websocket open");
      document.body.classList.remove("webio-reconnecting");
      var q = self.queue;
      self.queue = [];
      q.forEach(function (m) { ws.send(m); });
    };
    ws.onmessage = function (e) {
      if (typeof e.data !== "string") return;
      var msg;
      try { msg = JSON.parse(e.data); } catch (err) { warn("bad message from server"); return; }
      safeHandle(msg);
    };
    ws.onclose = function () {
      if (self.ws !== ws) return;
      if (self.serverClosed || Session.closed) { markClosed(); return; }
      if (self.sessionId !== "NEW") {
        document.body.classList.add("webio-reconnecting");
        var wait = Math.max(0, 5000 - (Date.now() - self.lastAttempt));
        setTimeout(function () { if (!self.serverClosed) self.connect(); }, wait);
      } else {
        markClosed();
        showToast({ content: T.lost, duration: 0, position: "center", color: "#e53935" });
      }
    };
    ws.onerror = function () { log("websocket error"); };
  };

  WebSocketTransport.prototype.sendRaw = function (data) {
    if (this.ws && this.ws.readyState === 1) this.ws.send(data);
    else this.queue.push(data);
  };
  WebSocketTransport.prototype.send = function (event) { this.sendRaw(JSON.stringify(event)); };
  WebSocketTransport.prototype.sendBinary = function (buffer) { this.sendRaw(buffer); };
  WebSocketTransport.prototype.setSessionId = function (id) { this.sessionId = String(id); };
  WebSocketTransport.prototype.closedByServer = function () {
    this.serverClosed = true;
  };

  function randomToken(n) {
    var chars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    var a = new Uint8Array(n);
    (global.crypto || {}).getRandomValues ? crypto.getRandomValues(a) : a.forEach(function (_, i) { a[i] = Math.random() * 256; });
    return [].map.call(a, function (x) { return chars.charAt(x % chars.length); }).join("");
  }

  /* HTTP short polling (spec 1.10) */
  function HttpTransport() {
    this.sessionId = "NEW-" + randomToken(24);
    this.executed = -1; // last executed batch id
    this.nextEventId = 0;
    this.pending = []; // {id, event | binary}
    this.stopped = false;
    this.timer = null;
    this.lastSend = 0;
    this.inflight = false;
    var self = this;
    this.poll();
    this.resendTimer = setInterval(function () {
      if (self.pending.length && Date.now() - self.lastSend >= 1000) self.flush();
    }, 2000);
  }

  HttpTransport.prototype.url = function (extra) {
    var u = backendUrl();
    u.search = "?app=" + encodeURIComponent(config.appName) + "&ack=" + this.executed + (extra || "");
    return u.toString();
  };

  HttpTransport.prototype.headers = function (ctype) {
    var hd = { "webio-session-id": this.sessionId };
    if (ctype) hd["Content-Type"] = ctype;
    return hd;
  };

  HttpTransport.prototype.onResponse = function (res) {
    var self = this;
    var sid = res.headers.get("webio-session-id");
    if (sid) this.sessionId = sid;
    else if (res.ok && this.sessionId.indexOf("NEW-") === 0) this.sessionId = this.sessionId.slice(4);
    return res.json().then(function (data) {
      if (typeof data.ack === "number") self.pending = self.pending.filter(function (p) { return p.id > data.ack; });
      var seq = typeof data.seq === "number" ? data.seq : self.executed + 1;
      (data.commands || []).forEach(function (batch, i) {
        var id = seq + i;
        if (id <= self.executed) return;
        self.executed = id;
        (batch || []).forEach(safeHandle);
      });
    });
  };

  HttpTransport.prototype.reschedule = function () {
    var self = this;
    clearTimeout(this.timer);
    if (this.stopped) return;
    this.timer = setTimeout(function () { self.poll(); }, config.pullInterval);
  };

  HttpTransport.prototype.poll = function () {
    var self = this;
    if (this.stopped) return;
    fetch(this.url(), { headers: this.headers(), cache: "no-store" })
      .then(function (res) { return self.onResponse(res); })
      .catch(function (e) { log("poll failed", e); })
      .then(function () { self.reschedule(); });
  };

  HttpTransport.prototype.flush = function () {
    var self = this;
    if (this.inflight || !this.pending.length || this.stopped) return;
    var first = this.pending[0];
    var body, ctype, batch;
    if (first.binary) {
      batch = [first];
      body = first.binary;
      ctype = "application/octet-stream";
    } else {
      batch = [];
      for (var i = 0; i < this.pending.length && !this.pending[i].binary; i++) batch.push(this.pending[i]);
      body = JSON.stringify(batch.map(function (p) { return p.event; }));
      ctype = "application/json";
    }
    this.inflight = true;
    this.lastSend = Date.now();
    fetch(this.url("&seq=" + first.id), { method: "POST", headers: this.headers(ctype), body: body })
      .then(function (res) { return self.onResponse(res); })
      .catch(function (e) { log("send failed", e); })
      .then(function () {
        self.inflight = false;
        if (self.pending.length && self.pending[0].id > batch[batch.length - 1].id) self.flush();
      });
  };

  HttpTransport.prototype.send = function (event) {
    this.pending.push({ id: this.nextEventId++, event: event });
    this.flush();
  };
  HttpTransport.prototype.sendBinary = function (buffer) {
    this.pending.push({ id: this.nextEventId++, binary: buffer });
    this.flush();
  };
  HttpTransport.prototype.closedByServer = function () {
    this.stopped = true;
    clearTimeout(this.timer);
    clearInterval(this.resendTimer);
  };

  // ------------------------------------------------------------------------------------------------
  // entry points

  function ensureSkeleton() {
    if (!document.getElementById("pywebio-scope-ROOT")) {
      var md = document.getElementById("markdown-body");
      if (!md) {
        md = h("div", { id: "markdown-body" });
        document.body.appendChild(h("div", { class: "pywebio" }, h("div", { id: "output-container" }, md)));
      }
      md.appendChild(h("div", { id: "pywebio-scope-ROOT", class: "webio-scope" }));
    }
    if (!document.getElementById("input-cards")) {
      var ic = document.getElementById("input-container") || document.body.appendChild(h("div", { id: "input-container" }));
      ic.appendChild(h("div", { id: "input-cards" }));
    }
  }

  function startWebIOClient(options) {
    options = options || {};
    ensureSkeleton();
    var protocol = options.protocol || "ws";
    if (options.backend_address) config.backend = options.backend_address;
    if (options.app_name) config.appName = options.app_name;
    var start = function (p) {
      if (p === "http") Session.transport = new HttpTransport();
      else if (p === "loopback") Session.transport = options.transport;
      else Session.transport = new WebSocketTransport();
    };
    if (protocol === "auto") {
      var u = backendUrl();
      u.search = "?test=1";
      fetch(u.toString()).then(function (r) { return r.text(); }).then(function (t) {
        start(t === "ok" ? "http" : "ws");
      }, function () { start("ws"); });
    } else {
      start(protocol);
    }
    return Session;
  }

  function openApp(name, newWindow) {
    var u = new URL(global.location.href);
    u.searchParams.set("app", name);
    if (newWindow) global.open(u.toString());
    else global.location.href = u.toString();
  }

  global.WebIO = {
    startWebIOClient: startWebIOClient,
    openApp: openApp,
    // for tests and embedding
    handleCommand: safeHandle,
    renderMarkdown: Markdown.render,
    renderMustache: Mustache.render,
    _state: { Session: Session, config: config, Forms: Forms, Pins: Pins },
  };
})(window);
