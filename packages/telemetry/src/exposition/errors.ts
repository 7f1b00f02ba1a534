/**
 * The one error a metrics page can raise. The scrape loop marks the target unhealthy with it and
 * keeps nothing from the page.
 */
export class ParseError extends Error {
  override readonly name = "ParseError";

  /**
   * @param line 1-based line of the offending text.
   * @param col 1-based column, counted in UTF-16 code units of the decoded page.
   * @param reason what is wrong, without the position.
   */
  constructor(
    readonly line: number,
    readonly col: number,
    readonly reason: string,
  ) {
    super(`${line}:${col}: ${reason}`);
  }
}
