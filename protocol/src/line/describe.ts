/** Shape of the human-readable description of a line dialect; the docs tables are generated from it. */
export type VerbDescription = {
  /** Arguments in order, e.g. `ml temp_c bar`; empty when none. */
  readonly args: string;
  /** What the OK reply carries (requests) or what the line means (replies, events). */
  readonly reply: string;
  /** ERR codes this verb may answer with. */
  readonly errors: string;
};

export type DialectDescription<
  Req extends string,
  Rep extends string,
  Ev extends string,
  Err extends string,
> = {
  readonly request: Readonly<Record<Req, VerbDescription>>;
  readonly reply: Readonly<Record<Rep, VerbDescription>>;
  readonly event: Readonly<Record<Ev, VerbDescription>>;
  readonly errors: Readonly<Record<Err, string>>;
};
