/**
 * How deep JSON may nest where it is parsed and written again. `JSON.parse` reads any depth, but
 * `JSON.stringify` (and every recursive walk) overflows the stack around 5,000 levels, so a value
 * is measured on its text first, without recursion. The limit is the default of .NET's
 * `System.Text.Json` (`JsonReaderOptions.MaxDepth`), which reads the service's JSON.
 */
export const MAX_JSON_DEPTH = 64;

/**
 * The deepest nesting of `[` and `{` in `text` (strings skipped), counted up to `limit + 1`:
 * a result above `limit` means "too deep" and the scan stops there.
 */
export function jsonDepth(text: string, limit = MAX_JSON_DEPTH): number {
  let depth = 0;
  let deepest = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c /* \ */) i++;
      else if (c === 0x22 /* " */) inString = false;
    } else if (c === 0x22) {
      inString = true;
    } else if (c === 0x5b /* [ */ || c === 0x7b /* { */) {
      if (++depth > deepest) {
        deepest = depth;
        if (deepest > limit) return deepest;
      }
    } else if (c === 0x5d /* ] */ || c === 0x7d /* } */) {
      depth--;
    }
  }
  return deepest;
}

/** Why `text` may not be parsed and written again (it nests deeper than `limit`), or `undefined`. */
export function jsonDepthProblem(text: string, limit = MAX_JSON_DEPTH): string | undefined {
  return jsonDepth(text, limit) > limit ? `the JSON nests deeper than ${limit} levels` : undefined;
}
