/** JSON Lines: one value per non-blank line, each with its 1-based line number for error messages. */
export interface JsonlRow {
  line: number;
  value: unknown;
}

/** Parses every non-blank line; `malformed` builds the error thrown for a line that is not JSON. */
export function parseJsonl(text: string, malformed: (line: number, reason: string) => Error): JsonlRow[] {
  const rows: JsonlRow[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const raw = lines[i].trim();
    if (raw === '') continue;
    try {
      rows.push({ line: i + 1, value: JSON.parse(raw) });
    } catch (err) {
      throw malformed(i + 1, (err as Error).message);
    }
  }
  return rows;
}
