"""Everything only a demo needs: tours, the touch driver, the local hub, demo keys."""
