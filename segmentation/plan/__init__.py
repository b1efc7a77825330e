"""Planning: what segments are worth, A/B test design and results, the bandit simulation, sign-up."""
