/** Quotes a request-supplied value for a message, cut to a readable length. */
export function quote(value: string, max = 120): string {
  return JSON.stringify(value.length > max ? `${value.slice(0, max)}…` : value);
}
