// graph-path: a shuffled edge list of a small directed graph, a start and a goal; the answer
// is a path. Prompt `a b , c d , b c ? a d`, chain of thought `d c b a` (the path traced back
// from the goal, the way a search finds it), answer `a b c d`. Any simple path from start to
// goal along listed edges earns the reward.
import { graphPathSplitParamsSchema, type GraphPathSplitParams, type TokenSet } from "@transcend/protocol";
import { MalformedPromptError, defineFamily, joinWith, splitOn } from "../family";
import type { Rng } from "../types";

const LETTERS = "abcdefghijklmnop".split("");
/** Two disjoint node alphabets of 16; each splits into halves of 8 for the composition routes. */
export const GRAPH_NODES: Record<TokenSet, readonly string[]> = {
  A: LETTERS,
  B: LETTERS.map((letter) => letter.toUpperCase()),
};
const HALF = 8;
const EDGE_END = ",";
const QUERY = "?";

type Edge = readonly [string, string];

/** Shortest distances (in edges) from `source` following edges forward, or backward when `reverse`. */
function distances(edges: readonly Edge[], source: string, reverse = false): Map<string, number> {
  const next = new Map<string, string[]>();
  for (const [from, to] of edges) {
    const [tail, head] = reverse ? [to, from] : [from, to];
    const list = next.get(tail);
    if (list) list.push(head);
    else next.set(tail, [head]);
  }
  const distance = new Map([[source, 0]]);
  const queue = [source];
  for (let index = 0; index < queue.length; index++) {
    const node = queue[index] ?? "";
    const here = distance.get(node) ?? 0;
    for (const head of next.get(node) ?? []) {
      if (distance.has(head)) continue;
      distance.set(head, here + 1);
      queue.push(head);
    }
  }
  return distance;
}

/** The nodes of the generated path, start first, laid out as the split's route asks. */
function samplePath(params: GraphPathSplitParams, pathLength: number, nodes: readonly string[], rng: Rng) {
  const [firstHalf, secondHalf] = [nodes.slice(0, HALF), nodes.slice(HALF)];
  switch (params.route) {
    case "free":
      return { path: rng.shuffle([...nodes]).slice(0, pathLength + 1), pools: [nodes], bridge: undefined };
    case "within-half": {
      const path = rng.shuffle([...rng.pick([firstHalf, secondHalf])]).slice(0, pathLength + 1);
      // The bridge always runs first half → second half, so it never shortens a path that stays in one half.
      const bridge: Edge = [rng.pick(firstHalf), rng.pick(secondHalf)];
      return { path, pools: [firstHalf, secondHalf], bridge };
    }
    case "across-bridge": {
      const firstEdges = rng.int(0, pathLength - 1);
      const path = [
        ...rng.shuffle([...firstHalf]).slice(0, firstEdges + 1),
        ...rng.shuffle([...secondHalf]).slice(0, pathLength - firstEdges),
      ];
      return { path, pools: [firstHalf, secondHalf], bridge: undefined };
    }
  }
}

function readPrompt(prompt: readonly string[]) {
  const fail = (reason: string) => new MalformedPromptError("graph-path", prompt, reason);
  const [edgeList, query, ...rest] = splitOn(prompt, QUERY);
  if (!edgeList || !query || rest.length > 0) throw fail(`expected one "${QUERY}"`);
  const [start, goal, ...extra] = query;
  if (start === undefined || goal === undefined || extra.length > 0) throw fail("expected a start and a goal");
  const tokenSet = (Object.keys(GRAPH_NODES) as TokenSet[]).find((set) => GRAPH_NODES[set].includes(start));
  if (tokenSet === undefined) throw fail("the start is not a node");
  const nodes = GRAPH_NODES[tokenSet];
  const edges = splitOn(edgeList, EDGE_END).map((edge): Edge => {
    const [from, to, ...more] = edge;
    if (from === undefined || to === undefined || more.length > 0) throw fail("an edge is not two nodes");
    return [from, to];
  });
  if (![goal, ...edges.flat()].every((node) => nodes.includes(node))) throw fail("nodes from two token sets");
  return { edges, start, goal, nodes };
}

export const graphPath = defineFamily<GraphPathSplitParams>({
  name: "graph-path",
  tokens: [...GRAPH_NODES.A, ...GRAPH_NODES.B, EDGE_END, QUERY],
  paramsSchema: graphPathSplitParamsSchema,
  sample(params, rng) {
    const nodes = GRAPH_NODES[params.tokenSet];
    const pathLength = rng.int(params.pathLength.min, params.pathLength.max);
    let distractors = rng.int(params.distractorEdges.min, params.distractorEdges.max);
    const { path, pools, bridge } = samplePath(params, pathLength, nodes, rng);
    const [start, goal] = [path[0] ?? "", path[path.length - 1] ?? ""];
    const edges: Edge[] = [];
    const listed = new Set<string>();
    const add = (edge: Edge) => {
      edges.push(edge);
      listed.add(`${edge[0]}>${edge[1]}`);
    };
    path.slice(1).forEach((to, index) => add([path[index] ?? "", to]));
    const has = (from: string, to: string) => listed.has(`${from}>${to}`);
    if (bridge) {
      add(bridge);
      distractors--;
    }
    // Distractors may add other paths, but never a shorter one: depth stays the shortest path length.
    for (; distractors > 0; distractors--) {
      const fromStart = distances(edges, start);
      const toGoal = distances(edges, goal, true);
      const fits = (from: string, to: string) =>
        from !== to && !has(from, to) && (fromStart.get(from) ?? Infinity) + 1 + (toGoal.get(to) ?? Infinity) >= pathLength;
      // Rejection draws uniformly over the edges that fit (the pools are equally sized); almost
      // every draw fits, so enumerating them all is only the fallback.
      let chosen: Edge | undefined;
      for (let attempt = 0; attempt < 64 && chosen === undefined; attempt++) {
        const pool = rng.pick(pools);
        const [from, to] = [rng.pick(pool), rng.pick(pool)];
        if (fits(from, to)) chosen = [from, to];
      }
      if (chosen === undefined) {
        const candidates = pools.flatMap((pool) => pool.flatMap((from) => pool.filter((to) => fits(from, to)).map((to): Edge => [from, to])));
        // Within the limits the split schema allows there are always far more candidates than distractors.
        if (candidates.length === 0) throw new Error("no room for another distractor edge");
        chosen = rng.pick(candidates);
      }
      add(chosen);
    }
    rng.shuffle(edges);
    return {
      prompt: [...joinWith(edges, EDGE_END), QUERY, start, goal],
      chainOfThought: [...path].reverse(),
      answer: path,
    };
  },
  isCorrect(prompt, answer) {
    const { edges, start, goal } = readPrompt(prompt);
    if (answer.length < 2 || answer[0] !== start || answer[answer.length - 1] !== goal) return false;
    if (new Set(answer).size !== answer.length) return false; // a path, not a walk: no node twice
    return answer.slice(1).every((to, index) => edges.some(([from, next]) => from === answer[index] && next === to));
  },
  measure(prompt) {
    const { edges, start, goal, nodes } = readPrompt(prompt);
    const shortest = distances(edges, start).get(goal) ?? Infinity;
    const half = (node: string) => (nodes.indexOf(node) < HALF ? "first" : "second");
    return {
      depth: [shortest],
      length: [edges.length - shortest],
      representation: [...new Set(edges.flat())],
      composition: [`${half(start)}→${half(goal)}`],
    };
  },
  lengthBound(params) {
    const edges = params.pathLength.max + params.distractorEdges.max;
    return { prompt: 3 * edges - 1 + 3, chainOfThought: params.pathLength.max + 1, answer: params.pathLength.max + 1 };
  },
});
