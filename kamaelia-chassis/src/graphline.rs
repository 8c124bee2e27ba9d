//! Graphline: named children linked by an explicit table, with linkages to and from the graphline itself.
