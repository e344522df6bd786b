import type { Balancer, BalancerName, NodeLoad, PoolNode } from './options.js';
import type { NodeState } from './records.js';

export type { Balancer, BalancerName, NodeLoad } from './options.js';

/** True when a node can take a lease now or soon: selectable and (spare capacity or room to create). */
export type NodePredicate<C, N extends PoolNode> = (node: NodeState<C, N>) => boolean;

/**
 * Picks a node among `nodes` satisfying `canServe`. Built-in strategies look at O(1) nodes in the
 * common case and fall back to a scan only when their picks cannot serve, so selection cost stays
 * flat as nodes grow.
 */
export class NodeSelector<C, N extends PoolNode> {
  private roundRobinCursor = 0;
  private weightedCredits: Map<string, number> | undefined;

  constructor(private readonly strategy: BalancerName | Balancer<N>) {}

  pick(nodes: readonly NodeState<C, N>[], canServe: NodePredicate<C, N>, affinityKey?: string): NodeState<C, N> | undefined {
    const count = nodes.length;
    if (count === 0) return undefined;
    if (count === 1) {
      const only = nodes[0]!;
      return canServe(only) ? only : undefined;
    }
    if (affinityKey !== undefined) return rendezvous(nodes, canServe, affinityKey);
    switch (this.strategy) {
      case 'p2c':
        return this.powerOfTwoChoices(nodes, canServe);
      case 'random':
        return this.weightedRandom(nodes, canServe);
      case 'round-robin':
        return this.roundRobin(nodes, canServe);
      case 'least-connections':
        return leastLoaded(nodes, canServe);
      default:
        return this.custom(this.strategy, nodes, canServe);
    }
  }

  private powerOfTwoChoices(nodes: readonly NodeState<C, N>[], canServe: NodePredicate<C, N>): NodeState<C, N> | undefined {
    const count = nodes.length;
    const firstIndex = (Math.random() * count) | 0;
    const first = nodes[firstIndex]!;
    let secondIndex = (Math.random() * (count - 1)) | 0;
    if (secondIndex >= firstIndex) secondIndex++;
    const second = nodes[secondIndex]!;
    const firstOk = canServe(first);
    const secondOk = canServe(second);
    if (firstOk && secondOk) return load(second) < load(first) ? second : first;
    if (firstOk) return first;
    if (secondOk) return second;
    return leastLoaded(nodes, canServe);
  }

  private weightedRandom(nodes: readonly NodeState<C, N>[], canServe: NodePredicate<C, N>): NodeState<C, N> | undefined {
    // A few weighted tries by rejection sampling, then a scan: O(1) expected when most nodes can serve.
    const maxWeight = maxWeightOf(nodes);
    if (maxWeight > 0) {
      for (let attempt = 0; attempt < 8; attempt++) {
        const candidate = nodes[(Math.random() * nodes.length) | 0]!;
        if (Math.random() * maxWeight < candidate.weight && canServe(candidate)) return candidate;
      }
    }
    return scanWeighted(nodes, canServe);
  }

  private roundRobin(nodes: readonly NodeState<C, N>[], canServe: NodePredicate<C, N>): NodeState<C, N> | undefined {
    // Smooth weighted round-robin when weights differ, plain rotation otherwise.
    if (hasWeights(nodes)) return this.smoothWeighted(nodes, canServe);
    const count = nodes.length;
    for (let step = 0; step < count; step++) {
      const candidate = nodes[(this.roundRobinCursor + step) % count]!;
      if (canServe(candidate)) {
        this.roundRobinCursor = (this.roundRobinCursor + step + 1) % count;
        return candidate;
      }
    }
    return undefined;
  }

  private smoothWeighted(nodes: readonly NodeState<C, N>[], canServe: NodePredicate<C, N>): NodeState<C, N> | undefined {
    const credits = (this.weightedCredits ??= new Map());
    let best: NodeState<C, N> | undefined;
    let bestCredit = -Infinity;
    let totalWeight = 0;
    for (const node of nodes) {
      if (node.weight <= 0 || !canServe(node)) continue;
      const credit = (credits.get(node.id) ?? 0) + node.weight;
      credits.set(node.id, credit);
      totalWeight += node.weight;
      if (credit > bestCredit) {
        best = node;
        bestCredit = credit;
      }
    }
    if (best) credits.set(best.id, bestCredit - totalWeight);
    return best;
  }

  private custom(balancer: Balancer<N>, nodes: readonly NodeState<C, N>[], canServe: NodePredicate<C, N>): NodeState<C, N> | undefined {
    const candidates: (NodeLoad<N> & { state: NodeState<C, N> })[] = [];
    for (const node of nodes) {
      if (canServe(node)) {
        candidates.push({ node: node.node, leases: node.leases, total: node.total, idle: node.idle, weight: node.weight, state: node });
      }
    }
    if (candidates.length === 0) return undefined;
    const chosen = balancer(candidates, {}) as (NodeLoad<N> & { state?: NodeState<C, N> }) | undefined;
    if (chosen === undefined) return undefined;
    return chosen.state ?? candidates.find((candidate) => candidate.node === chosen.node)?.state;
  }
}

/** In-flight work per unit of weight; creates under way count, as they are about to carry leases. */
function load<C, N extends PoolNode>(node: NodeState<C, N>): number {
  return node.weight > 0 ? (node.leases + node.creating) / node.weight : Infinity;
}

function leastLoaded<C, N extends PoolNode>(nodes: readonly NodeState<C, N>[], canServe: NodePredicate<C, N>): NodeState<C, N> | undefined {
  let best: NodeState<C, N> | undefined;
  for (const node of nodes) {
    if (canServe(node) && (best === undefined || load(node) < load(best))) best = node;
  }
  return best;
}

function hasWeights<C, N extends PoolNode>(nodes: readonly NodeState<C, N>[]): boolean {
  const first = nodes[0]!.weight;
  return nodes.some((node) => node.weight !== first);
}

function maxWeightOf<C, N extends PoolNode>(nodes: readonly NodeState<C, N>[]): number {
  let max = 0;
  for (const node of nodes) if (node.weight > max) max = node.weight;
  return max;
}

function scanWeighted<C, N extends PoolNode>(nodes: readonly NodeState<C, N>[], canServe: NodePredicate<C, N>): NodeState<C, N> | undefined {
  let total = 0;
  for (const node of nodes) if (canServe(node)) total += node.weight;
  if (total <= 0) return undefined;
  let target = Math.random() * total;
  for (const node of nodes) {
    if (!canServe(node)) continue;
    target -= node.weight;
    if (target < 0) return node;
  }
  return undefined;
}

/**
 * Rendezvous (highest random weight) hashing: a key goes to the node whose hash with the key is
 * highest among the nodes that can serve, so adding or removing a node moves only that node's keys.
 */
function rendezvous<C, N extends PoolNode>(nodes: readonly NodeState<C, N>[], canServe: NodePredicate<C, N>, key: string): NodeState<C, N> | undefined {
  let best: NodeState<C, N> | undefined;
  let bestScore = -1;
  for (const node of nodes) {
    if (!canServe(node)) continue;
    // Weighted rendezvous: -w / ln(h) keeps each node's share proportional to its weight.
    const score = node.weight > 0 ? -node.weight / Math.log(scoreOf(key, node.id)) : 0;
    if (score > bestScore) {
      best = node;
      bestScore = score;
    }
  }
  return best;
}

/** FNV-1a over key and node id, mixed, as a float in (0, 1). */
function scoreOf(key: string, nodeId: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) hash = Math.imul(hash ^ key.charCodeAt(i), 0x01000193);
  hash = Math.imul(hash ^ 0xff, 0x01000193);
  for (let i = 0; i < nodeId.length; i++) hash = Math.imul(hash ^ nodeId.charCodeAt(i), 0x01000193);
  hash ^= hash >>> 16;
  hash = Math.imul(hash, 0x85ebca6b);
  hash ^= hash >>> 13;
  hash = Math.imul(hash, 0xc2b2ae35);
  hash ^= hash >>> 16;
  return ((hash >>> 0) + 0.5) / 4294967296;
}
