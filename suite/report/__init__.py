"""Reports of search comparisons: summary tables, markdown and plots."""
