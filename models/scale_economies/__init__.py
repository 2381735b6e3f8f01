"""The scale_economies family: `model.py` holds its mathematics (the docstring), symbols and
build, with the hooks the engine calls; `verify.py` restates its rules for
``allocator verify`` from the math, sharing no code with the model."""
