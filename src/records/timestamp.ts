// RFC 3339 date-time (spec section 12, "Timestamps"), parsed by hand: Date.parse and
// new Date() roll an impossible date over ("2027-02-30" becomes March 2nd) instead of
// refusing it. No I/O here: unit-tested without a database.

// date-time = full-date "T" full-time; "T" and "Z" may be lower case (RFC 3339 section 5.6).
// Any number of fraction digits; the offset is "Z" or ±hh:mm.
const DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(?:[Zz]|([+-])(\d{2}):(\d{2}))$/;

const isLeapYear = (year: number) => (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;

/** Days in a month (1–12) of a proleptic Gregorian year. */
export function daysInMonth(year: number, month: number): number {
  if (month === 2) return isLeapYear(year) ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

/** Days from 1970-01-01 to a proleptic Gregorian date (negative before it). Date.UTC would
 * read the years 0–99 as 1900–1999. */
function daysFromEpoch(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yearOfEra = y - era * 400;
  const dayOfYear = Math.floor((153 * (month + (month > 2 ? -3 : 9)) + 2) / 5) + day - 1;
  const dayOfEra = yearOfEra * 365 + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100) + dayOfYear;
  return era * 146_097 + dayOfEra - 719_468;
}

/**
 * The instant an RFC 3339 date-time names, in milliseconds since the epoch, or undefined
 * when the text is not one: a month outside 01–12, a day the month does not have in that
 * year, an hour over 23, a minute or second over 59 (no leap second), an offset hour over
 * 23 or minute over 59. Fraction digits past the millisecond are cut off (towards the
 * past), the precision every response shows timestamps in.
 */
export function parseTimestamp(text: string): number | undefined {
  const m = DATE_TIME.exec(text);
  if (m === null) return undefined;
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return undefined;
  if (hour > 23 || minute > 59 || second > 59) return undefined;
  let offsetMinutes = 0;
  if (m[8] !== undefined) {
    const offsetHour = Number(m[9]);
    const offsetMinute = Number(m[10]);
    if (offsetHour > 23 || offsetMinute > 59) return undefined;
    offsetMinutes = (m[8] === "-" ? -1 : 1) * (offsetHour * 60 + offsetMinute);
  }
  const millis = Number((m[7] ?? "").slice(0, 3).padEnd(3, "0"));
  const seconds = daysFromEpoch(year, month, day) * 86_400 + hour * 3600 + minute * 60 + second - offsetMinutes * 60;
  return seconds * 1000 + millis;
}
