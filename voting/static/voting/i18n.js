// Sentences come translated from Django in each page's JSON data ("strings"); this fills in
// {placeholders} and picks plural forms (keys ending in _one, _other, …) by the rules of the
// page's language (<html lang>), never the device's.
const pluralRules = new Intl.PluralRules(document.documentElement.lang || undefined);

export function fill(text, values = {}) {
  return String(text).replace(/\{(\w+)\}/g, (all, key) => (key in values ? String(values[key]) : all));
}

export function plurals(strings) {
  return (base, n, values = {}) =>
    fill(strings[`${base}_${pluralRules.select(n)}`] ?? strings[`${base}_other`], { n, ...values });
}

export function pageStrings(id) {
  return JSON.parse(document.getElementById(id).textContent).strings;
}
