/**
 * `strftime(3)` for stapio's output names (docs/systemtap-4.8.md 4.1): `-o FILE` is expanded against the local time each
 * time a file is opened, so `out-%H%M%S` names every file after the moment it was opened.
 *
 * Covers the conversions of the C locale that make sense in a file name. An unknown conversion is kept as
 * written, as glibc does.
 * @module
 */

const DAYS = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"];
const MONTHS = [
  "January",
  "February",
  "March",
  "April",
  "May",
  "June",
  "July",
  "August",
  "September",
  "October",
  "November",
  "December",
];

function pad(value: number, width: number, fill = "0"): string {
  return String(value).padStart(width, fill);
}

function dayOfYear(d: Date): number {
  const start = new Date(d.getFullYear(), 0, 1);
  const utcDiff = Date.UTC(d.getFullYear(), d.getMonth(), d.getDate()) -
    Date.UTC(start.getFullYear(), 0, 1);
  return Math.floor(utcDiff / 86_400_000) + 1;
}

function tzOffset(d: Date): string {
  const minutes = -d.getTimezoneOffset();
  const sign = minutes < 0 ? "-" : "+";
  const abs = Math.abs(minutes);
  return `${sign}${pad(Math.floor(abs / 60), 2)}${pad(abs % 60, 2)}`;
}

function tzName(d: Date): string {
  const part = new Intl.DateTimeFormat("en-US", { timeZoneName: "short" }).formatToParts(d)
    .find((p) => p.type === "timeZoneName");
  return part?.value ?? tzOffset(d);
}

function conversion(c: string, d: Date): string | undefined {
  const h12 = d.getHours() % 12 === 0 ? 12 : d.getHours() % 12;
  switch (c) {
    case "Y":
      return String(d.getFullYear());
    case "C":
      return pad(Math.floor(d.getFullYear() / 100), 2);
    case "y":
      return pad(d.getFullYear() % 100, 2);
    case "m":
      return pad(d.getMonth() + 1, 2);
    case "d":
      return pad(d.getDate(), 2);
    case "e":
      return pad(d.getDate(), 2, " ");
    case "H":
      return pad(d.getHours(), 2);
    case "k":
      return pad(d.getHours(), 2, " ");
    case "I":
      return pad(h12, 2);
    case "l":
      return pad(h12, 2, " ");
    case "M":
      return pad(d.getMinutes(), 2);
    case "S":
      return pad(d.getSeconds(), 2);
    case "p":
      return d.getHours() < 12 ? "AM" : "PM";
    case "j":
      return pad(dayOfYear(d), 3);
    case "a":
      return DAYS[d.getDay()].slice(0, 3);
    case "A":
      return DAYS[d.getDay()];
    case "b":
    case "h":
      return MONTHS[d.getMonth()].slice(0, 3);
    case "B":
      return MONTHS[d.getMonth()];
    case "u":
      return String(d.getDay() === 0 ? 7 : d.getDay());
    case "w":
      return String(d.getDay());
    case "s":
      return String(Math.floor(d.getTime() / 1000));
    case "z":
      return tzOffset(d);
    case "Z":
      return tzName(d);
    case "F":
      return `${d.getFullYear()}-${pad(d.getMonth() + 1, 2)}-${pad(d.getDate(), 2)}`;
    case "T":
      return `${pad(d.getHours(), 2)}:${pad(d.getMinutes(), 2)}:${pad(d.getSeconds(), 2)}`;
    case "R":
      return `${pad(d.getHours(), 2)}:${pad(d.getMinutes(), 2)}`;
    case "D":
      return `${pad(d.getMonth() + 1, 2)}/${pad(d.getDate(), 2)}/${pad(d.getFullYear() % 100, 2)}`;
    case "n":
      return "\n";
    case "t":
      return "\t";
    case "%":
      return "%";
    default:
      return undefined;
  }
}

/**
 * Expands the conversions of `format` for the local time of `date`.
 *
 * @example
 * ```ts
 * import { assertEquals } from "@std/assert";
 * const d = new Date(2024, 0, 5, 11, 41, 2);
 * assertEquals(strftime("out-%H%M%S", d), "out-114102");
 * assertEquals(strftime("%F_%%", d), "2024-01-05_%");
 * ```
 */
export function strftime(format: string, date: Date): string {
  return format.replace(/%(.)/gs, (whole, c: string) => conversion(c, date) ?? whole);
}
