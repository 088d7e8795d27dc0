"""autograd_nn.data"""
