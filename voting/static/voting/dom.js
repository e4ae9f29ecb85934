// The DOM helpers of every page. Text only: attendee strings go in as textContent, never markup.

export const $ = (id) => document.getElementById(id);

// An element; attributes but class, text (textContent), on<event> (listener); null/false skipped.
export function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [key, value] of Object.entries(attributes)) {
    if (value === null || value === undefined || value === false) continue;
    if (key === "class") element.className = value;
    else if (key === "text") element.textContent = value;
    else if (key.startsWith("on")) element.addEventListener(key.slice(2), value);
    else element.setAttribute(key, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    element.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return element;
}

export const el = (tag, className, text) => h(tag, { class: className || null, text });

export function setText(node, text) {
  if (node.textContent !== text) node.textContent = text;
}

// A translated sentence's {name} placeholders as nodes, each value in a <bdi> (bidi-safe).
export function fillNodes(template, values) {
  const nodes = [];
  let last = 0;
  const text = String(template);
  for (const match of text.matchAll(/\{(\w+)\}/g)) {
    nodes.push(text.slice(last, match.index));
    const value = values[match[1]];
    nodes.push(value === undefined ? match[0] : value instanceof Node ? value : el("bdi", "", String(value)));
    last = match.index + match[0].length;
  }
  nodes.push(text.slice(last));
  return nodes;
}

// Length in code points, as the server counts it.
export function chars(text) {
  return [...text].length;
}

// Keep container's children in the order of items, reusing earlier nodes (byKey: key -> record);
// nodes in place are not moved, so a CSS animation plays once.
export function reconcile(container, items, byKey, { key, make, node, update }) {
  const wanted = new Set(items.map(key));
  for (const [k, record] of byKey) {
    if (!wanted.has(k)) {
      node(record).remove();
      byKey.delete(k);
    }
  }
  items.forEach((item, index) => {
    let record = byKey.get(key(item));
    if (!record) {
      record = make(item);
      byKey.set(key(item), record);
    }
    update(record, item, index);
    const element = node(record);
    if (container.children[index] !== element) container.insertBefore(element, container.children[index] || null);
  });
}

// Times as text, in the event's time zone (never the device's).
let eventTimeZone;
export function useEventTimeZone(timeZone) {
  eventTimeZone = timeZone || undefined;
}

export function timeText(iso, lang = document.documentElement.lang || undefined) {
  const options = { hour: "2-digit", minute: "2-digit" };
  try {
    return new Intl.DateTimeFormat(lang, { ...options, timeZone: eventTimeZone }).format(new Date(iso));
  } catch {
    return new Intl.DateTimeFormat(lang, options).format(new Date(iso)); // unknown zone
  }
}
