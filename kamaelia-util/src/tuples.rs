//! SimpleDetupler and Entuple.
