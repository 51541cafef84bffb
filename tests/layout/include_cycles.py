#!/usr/bin/env python3
"""Fails when the modules of a source folder include each other in a cycle.

usage: include_cycles.py DIR...

A module is x.c with x.h (and x_int.h, its internal header for tests).
Module a depends on module b when a file of a has #include "b.h" and b.h
is in the same folder; headers from elsewhere (common/, system) are not
edges.  Every cycle found is printed with the #include lines that close
it, and the exit status is 1; 0 when there is none.
"""
import os
import re
import sys

INCLUDE = re.compile(r'^[ \t]*#[ \t]*include[ \t]+"([^"/]+)\.h"', re.M)


def module(filename):
    base = os.path.splitext(filename)[0]
    return base[:-4] if base.endswith("_int") else base


def graph(folder):
    """{module: {module it includes: 'file:line' of the first such include}}"""
    names = [n for n in sorted(os.listdir(folder)) if n.endswith((".c", ".h"))]
    headers = {os.path.splitext(n)[0] for n in names if n.endswith(".h")}
    edges = {}
    for name in names:
        src = module(name)
        edges.setdefault(src, {})
        with open(os.path.join(folder, name), encoding="utf-8") as f:
            text = f.read()
        for m in INCLUDE.finditer(text):
            if m.group(1) not in headers:
                continue
            dst = module(m.group(1) + ".h")
            if dst != src and dst not in edges[src]:
                line = text.count("\n", 0, m.start()) + 1
                edges[src][dst] = "%s:%d" % (name, line)
    return edges


def cycles(edges):
    """Strongly connected components of more than one module (Tarjan)."""
    index, low, stack, on, out = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in sorted(edges.get(v, {})):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return out


def path(edges, comp):
    """One cycle through comp's first module, as a list of modules."""
    start, members = comp[0], set(comp)
    seen, trail = set(), [start]

    def walk(v):
        for w in sorted(edges[v]):
            if w == start:
                return True
            if w in members and w not in seen:
                seen.add(w)
                trail.append(w)
                if walk(w):
                    return True
                trail.pop()
        return False

    walk(start)
    return trail + [start]


def main(folders):
    found = 0
    for folder in folders:
        edges = graph(folder)
        for comp in cycles(edges):
            found += 1
            cyc = path(edges, comp)
            print("%s: include cycle: %s" % (folder, " -> ".join(cyc)))
            for a, b in zip(cyc, cyc[1:]):
                print("  %s includes %s.h" % (edges[a][b], b))
        print("%s: %d modules, %d include edges" %
              (folder, len(edges), sum(len(e) for e in edges.values())))
    if found:
        print("%d include cycle(s); break each so that one module only "
              "depends on the other" % found)
    return 1 if found else 0


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    sys.exit(main(sys.argv[1:]))
