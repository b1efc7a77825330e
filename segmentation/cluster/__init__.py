"""Clustering: k-means and the choice of K, the saved model and scoring, RFM scores."""
