// gso-bench: Swift GSO against librte_gso (make bench-gso). Filled in by the next commit.
print("gso-bench: not built yet")
