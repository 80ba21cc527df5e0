"""When a file in the inbox is ready: watching, walking its folders, which files are ours."""
