"""Generic hybrid retrieval over LangChain Documents. It knows nothing of commitments.

Nothing heavy is imported here: import the submodules you need.
"""
