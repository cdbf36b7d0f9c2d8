// A tiny DOM for running the listening page's script without a browser.
// buildDocument(tree) makes elements from a JSON tree of the real page
// ({tag, attrs, text, tail, children}); only what the page script touches is modelled:
// attributes, tree queries (tag, #id, [attr] and tag[attr] selectors), events with
// bubbling, <audio> (currentTime, playbackRate, play/pause), <select> (value,
// selectedIndex, options), checkboxes (checked), localStorage, scrollIntoView (recorded in
// `scrolls`) and a window (pagehide, matchMedia answering true for the queries in `media`).

function Element(tag, attrs, text, tail) {
  this.tagName = tag.toUpperCase();
  this.attrs = attrs || {};
  this.text = text || "";
  this.tail = tail || "";
  this.children = [];
  this.parentNode = null;
  this.listeners = {};
  this.isContentEditable = this.attrs.contenteditable === "true" || this.attrs.contenteditable === "";
  if (this.tagName === "AUDIO") {
    this.currentTime = 0;
    this.playbackRate = 1;
    this.defaultPlaybackRate = 1;
    this.paused = true;
  }
  if (this.tagName === "SELECT") this.selectedIndex = 0;
  if (this.tagName === "INPUT") this.checked = Object.prototype.hasOwnProperty.call(this.attrs, "checked");
}

Element.prototype.getAttribute = function (n) {
  return Object.prototype.hasOwnProperty.call(this.attrs, n) ? this.attrs[n] : null;
};
Element.prototype.setAttribute = function (n, v) { this.attrs[n] = String(v); };
Element.prototype.removeAttribute = function (n) { delete this.attrs[n]; };
Element.prototype.hasAttribute = function (n) { return Object.prototype.hasOwnProperty.call(this.attrs, n); };
Element.prototype.addEventListener = function (type, fn) {
  (this.listeners[type] = this.listeners[type] || []).push(fn);
};
Element.prototype.contains = function (node) {
  for (var n = node; n; n = n.parentNode) if (n === this) return true;
  return false;
};
Element.prototype.matches = function (sel) {
  var m = /^([a-z0-9]*)(?:#([\w-]+))?(?:\[([\w-]+)\])?$/.exec(sel);
  if (!m) throw new Error("selector not modelled: " + sel);
  if (m[1] && this.tagName !== m[1].toUpperCase()) return false;
  if (m[2] && this.attrs.id !== m[2]) return false;
  if (m[3] && !this.hasAttribute(m[3])) return false;
  return true;
};
Element.prototype.descendants = function () {
  var out = [];
  (function walk(n) { n.children.forEach(function (c) { out.push(c); walk(c); }); })(this);
  return out;
};
Element.prototype.querySelectorAll = function (sel) {
  return this.descendants().filter(function (e) { return e.matches(sel); });
};
Element.prototype.querySelector = function (sel) { return this.querySelectorAll(sel)[0] || null; };
Element.prototype.closest = function (sel) {
  for (var n = this; n && n.matches; n = n.parentNode) if (n.matches(sel)) return n;
  return null;
};
Object.defineProperty(Element.prototype, "textContent", {
  get: function () {
    return this.text + this.children.map(function (c) { return c.textContent + c.tail; }).join("");
  },
  set: function (v) { this.children = []; this.text = String(v); },
});
Object.defineProperty(Element.prototype, "options", {
  get: function () { return this.querySelectorAll("option"); },
});
Object.defineProperty(Element.prototype, "value", {
  get: function () {
    var o = this.options[this.selectedIndex];
    return o ? o.getAttribute("value") : "";
  },
  set: function (v) {
    var opts = this.options;
    this.selectedIndex = -1;
    for (var i = 0; i < opts.length; i++) if (opts[i].getAttribute("value") === String(v)) this.selectedIndex = i;
  },
});
Element.prototype.play = function () {
  this.paused = false;
  dispatch(this, "play", {});
  return Promise.resolve();
};
Element.prototype.pause = function () { this.paused = true; };
Element.prototype.scrollIntoView = function (opts) { (scrolls = scrolls || []).push([this, opts]); };

function dispatch(target, type, props) {
  var ev = {type: type, target: target, defaultPrevented: false, altKey: false, ctrlKey: false, metaKey: false,
            shiftKey: false,
            preventDefault: function () { this.defaultPrevented = true; }};
  for (var k in props) ev[k] = props[k];
  for (var n = target; n; n = n.parentNode) {
    (n.listeners[type] || []).forEach(function (fn) { fn.call(n, ev); });
  }
  return ev;
}

function build(node, parent) {
  var el = new Element(node.tag, node.attrs, node.text, node.tail);
  el.parentNode = parent;
  el.children = node.children.map(function (c) { return build(c, el); });
  if (el.tagName === "SELECT") {
    el.options.forEach(function (o, i) { if (o.hasAttribute("selected")) el.selectedIndex = i; });
  }
  return el;
}

var document, localStorage, window, scrolls = [];

function buildDocument(tree, stored, media) {
  document = build(tree, null);
  document.getElementById = function (id) {
    return this.querySelectorAll("#" + id)[0] || null;
  };
  window = new Element("#window");
  window.matchMedia = function (q) { return {matches: (media || []).indexOf(q) >= 0}; };
  var data = Object.assign({}, stored || {});
  localStorage = {
    getItem: function (k) { return Object.prototype.hasOwnProperty.call(data, k) ? data[k] : null; },
    setItem: function (k, v) { data[k] = String(v); },
    removeItem: function (k) { delete data[k]; },
    data: data,
  };
}
