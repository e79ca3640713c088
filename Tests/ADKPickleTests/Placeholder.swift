// ADKPickle tests live beside this file.
