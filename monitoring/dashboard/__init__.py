"""The dashboard: pages over stored results, their page-shaped reads, fix advice and exports."""
