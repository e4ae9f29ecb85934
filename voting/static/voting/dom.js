// Tiny DOM helpers shared by the stage and the organizer pages. Text only: attendee strings
// are never parsed as markup.

export function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

export function setText(node, text) {
  if (node.textContent !== text) node.textContent = text;
}

// Keep `container`'s children in the order of `items`, one node per item, reusing the nodes
// of earlier renders (`byKey`: key -> record). Nodes already in place are not moved, so a
// CSS animation on an element plays once, not on every render.
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
