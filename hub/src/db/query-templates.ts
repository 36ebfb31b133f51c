import type { Compilable, CompiledQuery } from 'kysely';

/** Stands for one named value while a template is compiled; never reaches the database. */
class Slot {
  constructor(readonly name: string) {}
}

type Template = { compiled: CompiledQuery; slots: string[] };

/**
 * Compiled queries by shape, for hot read paths: building and compiling a Kysely query costs about as much
 * as SQLite running it. `build` is compiled once per `name` and distinct `shape`, with a placeholder for
 * every entry of `values`; later calls only fill in the parameters. Contract for `build`: it branches on
 * `shape` only and hands every entry of `values` to Kysely unchanged as a value (never inspects it). A
 * compiled query holding any parameter that is not one of the values is not reused (built afresh each time).
 */
export class QueryTemplates {
  private readonly templates = new Map<string, Template | null>();

  constructor(private readonly max = 64) {}

  compile<S extends Record<string, unknown>, V extends Record<string, unknown>, R>(
    name: string,
    shape: S,
    values: V,
    build: (shape: S, values: V) => Compilable<R>,
  ): CompiledQuery<R> {
    const key = `${name} ${JSON.stringify(shape)}`;
    let template = this.templates.get(key);
    if (template === undefined) {
      template = this.templateOf(shape, values, build);
      if (this.templates.size >= this.max) {
        const oldest = this.templates.keys().next().value;
        if (oldest !== undefined) this.templates.delete(oldest);
      }
      this.templates.set(key, template);
    }
    if (template === null) return build(shape, values).compile();
    const parameters = template.slots.map((name) => values[name]);
    return { ...template.compiled, parameters } as CompiledQuery<R>;
  }

  private templateOf<S, V extends Record<string, unknown>, R>(
    shape: S,
    values: V,
    build: (shape: S, values: V) => Compilable<R>,
  ): Template | null {
    const placeholders = Object.fromEntries(Object.keys(values).map((name) => [name, new Slot(name)])) as V;
    const compiled = build(shape, placeholders).compile();
    const slots: string[] = [];
    for (const parameter of compiled.parameters) {
      if (!(parameter instanceof Slot)) return null;
      slots.push(parameter.name);
    }
    return { compiled, slots };
  }
}
