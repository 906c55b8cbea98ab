"""Quick add at the stall: register, goods, publish and invite, each a phone screen."""
