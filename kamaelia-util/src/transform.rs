//! PureTransformer, StatefulTransformer and PassThrough.
