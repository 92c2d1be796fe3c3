"""stack: the whole system on one machine, for the README's main job and for trying things out."""
