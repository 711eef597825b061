/** Node kinds, as torch.fx. */
export type NodeOp = "placeholder" | "get_attr" | "call_module" | "call_function" | "call_method" | "output";

/** A graph argument: another node, or a constant. */
export type Argument = FxNode | number | string | boolean | readonly Argument[];

/** One operation of a {@link Graph}. */
export interface FxNode {
  readonly name: string;
  readonly op: NodeOp;
  /** Module path, function or method name, attribute name, or placeholder name. */
  readonly target: string;
  args: Argument[];
}

function formatArgument(a: Argument): string {
  if (Array.isArray(a)) return `[${a.map(formatArgument).join(", ")}]`;
  if (typeof a === "object") return `%${(a as FxNode).name}`;
  return String(a);
}

/** Users of each node (nodes whose args mention it). */
function usesOf(node: FxNode, a: Argument): boolean {
  if (Array.isArray(a)) return a.some((x) => usesOf(node, x));
  return a === node;
}

/**
 * A torch.fx-style graph: an ordered list of nodes in SSA form. Names are unique; a repeated
 * base name gets `_1`, `_2`, ... as in FX.
 */
export class Graph {
  readonly nodes: FxNode[] = [];
  private readonly names = new Map<string, number>();

  private uniqueName(base: string): string {
    const clean = base.replace(/\./g, "_");
    const count = this.names.get(clean);
    this.names.set(clean, (count ?? -1) + 1);
    return count === undefined ? clean : `${clean}_${count + 1}`;
  }

  /** Appends a node and returns it. */
  create(op: NodeOp, target: string, args: Argument[] = [], name?: string): FxNode {
    const node: FxNode = { name: this.uniqueName(name ?? target), op, target, args };
    this.nodes.push(node);
    return node;
  }

  /** Inserts a node right after `ref`. */
  insertAfter(ref: FxNode, op: NodeOp, target: string, args: Argument[] = [], name?: string): FxNode {
    const node: FxNode = { name: this.uniqueName(name ?? target), op, target, args };
    this.nodes.splice(this.nodes.indexOf(ref) + 1, 0, node);
    return node;
  }

  /** Removes a node that nothing uses any more. */
  erase(node: FxNode): void {
    this.nodes.splice(this.nodes.indexOf(node), 1);
  }

  /** Makes every user of `node` (except `except`) use `replacement` instead. */
  replaceAllUses(node: FxNode, replacement: FxNode, except?: FxNode): void {
    const swap = (a: Argument): Argument => (Array.isArray(a) ? a.map(swap) : a === node ? replacement : a);
    for (const n of this.nodes) if (n !== except) n.args = n.args.map(swap);
  }

  /** Nodes using `node` as an argument. */
  users(node: FxNode): FxNode[] {
    return this.nodes.filter((n) => n.args.some((a) => usesOf(node, a)));
  }

  /** The graph as torch.fx prints it. */
  toString(): string {
    const lines = ["graph():"];
    for (const n of this.nodes) {
      if (n.op === "output") {
        lines.push(`    return ${n.args.map(formatArgument).join(", ")}`);
        continue;
      }
      const head = `    %${n.name} : [num_users=${this.users(n).length}] = ${n.op}[target=${n.target}]`;
      lines.push(
        n.op === "placeholder" || n.op === "get_attr"
          ? head
          : `${head}(args = (${n.args.map(formatArgument).join(", ")}${n.args.length === 1 ? "," : ""}), kwargs = {})`,
      );
    }
    return lines.join("\n");
  }
}
