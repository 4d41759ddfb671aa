"""The embedded default: a synthetic math task and a tiny model that train on a laptop CPU."""
