"""autograd_nn.nn"""
